//! The stored record: `record::parse` on arbitrary text never panics, and whatever it
//! accepts survives `serialize` and `parse` again — the same tokens, reason and token type,
//! times to the millisecond that `serialize` keeps, and a fixed point from then on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenkeeper::record::{parse, serialize, Record, StoredSession};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(first) = parse(&text) else {
        return;
    };
    let written = serialize(&first);
    let again = parse(&written)
        .unwrap_or_else(|e| panic!("{first:?} wrote {written} which reads back as {e:?}"));
    assert_eq!(serialize(&again), written, "not a fixed point: {written}");
    match (&first, &again) {
        (Record::Session(a), Record::Session(b)) => same_session(a, b),
        (
            Record::Cleared { reason, at },
            Record::Cleared {
                reason: reason2,
                at: at2,
            },
        ) => {
            assert_eq!(reason, reason2);
            assert!(close(*at, *at2), "at {at} became {at2}");
        }
        _ => panic!("{first:?} came back as {again:?}"),
    }
});

fn same_session(a: &StoredSession, b: &StoredSession) {
    assert_eq!(a.access_token, b.access_token);
    assert_eq!(a.refresh_token, b.refresh_token);
    assert_eq!(a.id_token, b.id_token);
    assert_eq!(a.token_type, b.token_type);
    assert_eq!(a.dpop_jkt, b.dpop_jkt);
    for (name, x, y) in [
        ("expiresAt", a.expires_at, b.expires_at),
        ("signedInAt", Some(a.signed_in_at), Some(b.signed_in_at)),
        ("updatedAt", Some(a.updated_at), Some(b.updated_at)),
        ("activeAt", a.active_at, b.active_at),
        ("issuedAt", a.issued_at, b.issued_at),
        ("skewMs", a.skew_ms, b.skew_ms),
    ] {
        match (x, y) {
            (Some(x), Some(y)) => assert!(close(x, y), "{name} {x} became {y}"),
            (None, None) => {}
            _ => panic!("{name} {x:?} became {y:?}"),
        }
    }
}

/// Whether `written` is what `serialize` makes of `n`: rounded to the millisecond (half a
/// thousandth either way, plus the rounding of the float arithmetic), and magnitudes beyond
/// 9e15 clamped there.
fn close(n: f64, written: f64) -> bool {
    const LIMIT: f64 = 9.0e15;
    if n.abs() >= LIMIT {
        return written.abs() <= LIMIT && written.abs() >= LIMIT * (1.0 - 1e-12);
    }
    (n - written).abs() <= 0.0005 + n.abs() * 1e-12
}
