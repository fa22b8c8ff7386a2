//! The record a keeper stores under `<namespace>:tokens`: a versioned JSON envelope.
//!
//! ```json
//! {"format":"tokenkeeper","v":1,"accessToken":"…","refreshToken":"…","idToken":"…",
//!  "expiresAt":1700000000,"signedInAt":1699990000000,"updatedAt":1699996400000,
//!  "activeAt":1699996500000,"dpopJkt":"…"}
//! ```
//! or, for a moment while signing out everywhere, a tombstone that tells other tabs why:
//! `{"format":"tokenkeeper","v":1,"cleared":"idle","at":1699996400000}`.
//! Members added later (`dpopJkt`) are optional, so records written before them stay
//! readable under the same version.
//!
//! Anything else under the key — not JSON, another program's JSON, a newer format — is
//! reported and ignored, never thrown at the app and never overwritten on read.

use crate::json::{scan_members, string_text, write_string, MemberValue, MemberVisitor};
use crate::number::parse_json_number;
use crate::tokens::{is_token_text, TokenType};

/// The value of `"format"` in every record this crate writes.
pub const FORMAT: &str = "tokenkeeper";
/// The record version this crate writes and reads.
pub const VERSION: u32 = 1;

/// Why the tokens were cleared; sent to every tab with `cleared`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearReason {
    /// `clear()` was called.
    Logout,
    /// The token endpoint refused the refresh token.
    InvalidGrant,
    /// No activity for `idleTimeoutSeconds`.
    Idle,
    /// `maxSessionSeconds` since sign-in have passed.
    MaxSession,
}

impl ClearReason {
    /// The name used in events and records.
    pub fn as_str(self) -> &'static str {
        match self {
            ClearReason::Logout => "logout",
            ClearReason::InvalidGrant => "invalid_grant",
            ClearReason::Idle => "idle",
            ClearReason::MaxSession => "max_session",
        }
    }

    /// The reason with this name.
    pub fn from_name(name: &str) -> Option<ClearReason> {
        Some(match name {
            "logout" => ClearReason::Logout,
            "invalid_grant" => ClearReason::InvalidGrant,
            "idle" => ClearReason::Idle,
            "max_session" => ClearReason::MaxSession,
            _ => return None,
        })
    }
}

/// The tokens of a signed-in session, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSession {
    /// The access token (a JWT or an opaque string).
    pub access_token: String,
    /// The refresh token, if any.
    pub refresh_token: Option<String>,
    /// The ID token, if any.
    pub id_token: Option<String>,
    /// When the access token expires, epoch seconds (issuer time); `None` when unknown.
    pub expires_at: Option<f64>,
    /// When the session began (first `setTokens`), epoch milliseconds.
    pub signed_in_at: f64,
    /// When this record was written, epoch milliseconds.
    pub updated_at: f64,
    /// The last user activity any tab saw (for `idleTimeoutSeconds`), epoch milliseconds.
    pub active_at: Option<f64>,
    /// When the access token was issued, epoch seconds in issuer time (its `iat`, or its
    /// receipt): with `expires_at` it gives the token's lifetime.
    pub issued_at: Option<f64>,
    /// The issuer's clock minus the client's, ms, as last estimated.
    pub skew_ms: Option<f64>,
    /// How the access token is presented (`"tokenType":"DPoP"`; absent means Bearer).
    pub token_type: TokenType,
    /// The RFC 7638 thumbprint of the DPoP key the tokens are bound to, when known: a tab
    /// holding another key must not present the refresh token (the server would take it as
    /// stolen and revoke it, signing every tab out).
    pub dpop_jkt: Option<String>,
}

/// Whether a tab holding `held` may take `stored` as the same user's session: another tab's
/// refresh, not a record planted under the key by another same-origin page. Compares the
/// access tokens' `sub` claims. A signed-out tab, or one whose token has no `sub` (opaque
/// tokens), has nothing to compare with and takes the record as before.
pub fn same_subject(held: Option<&StoredSession>, stored: &StoredSession) -> bool {
    match held.and_then(|h| subject(&h.access_token)) {
        None => true,
        Some(held) => subject(&stored.access_token).as_deref() == Some(held.as_str()),
    }
}

/// The `sub` claim of a JWT access token; `None` for an opaque token or one without it.
fn subject(access_token: &str) -> Option<String> {
    let payload = crate::jwt::decode(access_token).ok()?.payload;
    crate::json::value::parse(&payload)?
        .get("sub")?
        .as_str()
        .map(str::to_owned)
}

/// What can be stored under the key.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Signed in.
    Session(StoredSession),
    /// Signed out everywhere, for this reason, at this time (epoch ms).
    Cleared {
        /// Why.
        reason: ClearReason,
        /// When, epoch milliseconds.
        at: f64,
    },
}

/// Why a stored value is not a usable record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Not JSON, truncated, or a tokenkeeper record with missing or mistyped fields.
    Corrupt,
    /// JSON, but not written by tokenkeeper.
    Foreign,
    /// A tokenkeeper record of a newer version than this code reads.
    FutureVersion,
}

#[derive(Default)]
struct Fields {
    current: Option<usize>,
    strings: [Option<String>; 7],
    numbers: [Option<f64>; 8],
    mistyped: bool,
}

const STRING_KEYS: [&str; 7] = [
    "format",
    "accessToken",
    "refreshToken",
    "idToken",
    "cleared",
    "tokenType",
    "dpopJkt",
];
/// The slots of [`STRING_KEYS`] that hold tokens.
const TOKEN_SLOTS: std::ops::RangeInclusive<usize> = 1..=3;
const NUMBER_KEYS: [&str; 8] = [
    "v",
    "expiresAt",
    "signedInAt",
    "updatedAt",
    "at",
    "activeAt",
    "issuedAt",
    "skewMs",
];

impl MemberVisitor for Fields {
    fn key(&mut self, raw: &[u8], escaped: bool) -> bool {
        let name = string_text(raw, escaped);
        self.current = STRING_KEYS.iter().position(|k| *k == name).or_else(|| {
            NUMBER_KEYS
                .iter()
                .position(|k| *k == name)
                .map(|i| i + STRING_KEYS.len())
        });
        self.current.is_some()
    }

    fn value(&mut self, value: MemberValue<'_>) {
        let Some(slot) = self.current else { return };
        match (slot < STRING_KEYS.len(), value) {
            (true, MemberValue::String { raw, escaped }) => {
                let text = string_text(raw, escaped);
                // Tokens are read back under the rules they were accepted under (VSCHAR, at
                // most 1 MiB): the storage is the whole origin's, and a token handed out goes
                // into an HTTP header.
                if TOKEN_SLOTS.contains(&slot) && !is_token_text(&text) {
                    self.mistyped = true;
                }
                self.strings[slot] = Some(text);
            }
            (false, MemberValue::Number(text)) => {
                self.numbers[slot - STRING_KEYS.len()] = Some(parse_json_number(text));
            }
            // `null` for an optional token is written by nobody, but tolerated as absent.
            (true, MemberValue::Other) if slot == 2 || slot == 3 => {}
            _ => self.mistyped = true,
        }
    }
}

/// Reads a stored value.
pub fn parse(text: &str) -> Result<Record, RecordError> {
    let mut f = Fields::default();
    match scan_members(text.as_bytes(), &mut f) {
        Ok(()) => {}
        Err(crate::json::JsonFault::NotObject) => return Err(RecordError::Foreign),
        Err(_) => return Err(RecordError::Corrupt),
    }
    let [format, access, refresh, id, cleared, token_type, dpop_jkt] = f.strings;
    let [version, expires_at, signed_in_at, updated_at, at, active_at, issued_at, skew_ms] =
        f.numbers;
    if format.as_deref() != Some(FORMAT) {
        return Err(RecordError::Foreign);
    }
    let version = version.ok_or(RecordError::Corrupt)?;
    if version > f64::from(VERSION) {
        return Err(RecordError::FutureVersion);
    }
    if f.mistyped || version != f64::from(VERSION) {
        return Err(RecordError::Corrupt);
    }
    let finite = |n: Option<f64>| match n {
        Some(v) if v.is_finite() => Ok(Some(v)),
        Some(_) => Err(RecordError::Corrupt),
        None => Ok(None),
    };
    if let Some(reason) = cleared {
        let reason = ClearReason::from_name(&reason).ok_or(RecordError::Corrupt)?;
        let at = finite(at)?.ok_or(RecordError::Corrupt)?;
        return Ok(Record::Cleared { reason, at });
    }
    let access_token = access
        .filter(|t| !t.is_empty())
        .ok_or(RecordError::Corrupt)?;
    Ok(Record::Session(StoredSession {
        access_token,
        refresh_token: refresh,
        id_token: id,
        expires_at: finite(expires_at)?,
        signed_in_at: finite(signed_in_at)?.ok_or(RecordError::Corrupt)?,
        updated_at: finite(updated_at)?.ok_or(RecordError::Corrupt)?,
        active_at: finite(active_at)?,
        issued_at: finite(issued_at)?,
        skew_ms: finite(skew_ms)?,
        token_type: token_type
            .as_deref()
            .map_or(TokenType::Bearer, TokenType::from_name),
        dpop_jkt,
    }))
}

/// Writes a record as JSON text.
pub fn serialize(record: &Record) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"format\":\"tokenkeeper\",\"v\":1");
    let field = |out: &mut String, name: &str| {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
    };
    match record {
        Record::Session(s) => {
            field(&mut out, "accessToken");
            write_string(&mut out, &s.access_token);
            for (name, value) in [("refreshToken", &s.refresh_token), ("idToken", &s.id_token)] {
                if let Some(v) = value {
                    field(&mut out, name);
                    write_string(&mut out, v);
                }
            }
            if let Some(e) = s.expires_at {
                field(&mut out, "expiresAt");
                write_number(&mut out, e);
            }
            field(&mut out, "signedInAt");
            write_number(&mut out, s.signed_in_at);
            field(&mut out, "updatedAt");
            write_number(&mut out, s.updated_at);
            if s.token_type == TokenType::DPoP {
                field(&mut out, "tokenType");
                write_string(&mut out, s.token_type.as_str());
            }
            if let Some(jkt) = &s.dpop_jkt {
                field(&mut out, "dpopJkt");
                write_string(&mut out, jkt);
            }
            for (name, value) in [
                ("activeAt", s.active_at),
                ("issuedAt", s.issued_at),
                ("skewMs", s.skew_ms),
            ] {
                if let Some(v) = value {
                    field(&mut out, name);
                    write_number(&mut out, v);
                }
            }
        }
        Record::Cleared { reason, at } => {
            field(&mut out, "cleared");
            write_string(&mut out, reason.as_str());
            field(&mut out, "at");
            write_number(&mut out, *at);
        }
    }
    out.push('}');
    out
}

/// Writes a finite number with up to three decimals (milliseconds in seconds, or whole ms):
/// integer formatting only, so that float formatting code stays out of the wasm module.
pub(crate) fn write_number(out: &mut String, n: f64) {
    let n = if n.is_finite() { n } else { 0.0 };
    let milli = (n * 1000.0).round();
    if milli < 0.0 {
        out.push('-');
    }
    let milli = milli.abs().min(9.0e18) as u64;
    push_u64(out, milli / 1000);
    let frac = milli % 1000;
    if frac != 0 {
        out.push('.');
        let digits = [frac / 100, frac / 10 % 10, frac % 10];
        let used = if frac % 100 == 0 {
            1
        } else if frac % 10 == 0 {
            2
        } else {
            3
        };
        for d in &digits[..used] {
            out.push(char::from(b'0' + *d as u8));
        }
    }
}

pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(core::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> StoredSession {
        StoredSession {
            access_token: "a.b.c".into(),
            refresh_token: Some("r\"1\\".into()),
            id_token: None,
            expires_at: Some(1_700_000_000.5),
            signed_in_at: 1_699_990_000_123.0,
            updated_at: 1_699_996_400_000.0,
            active_at: Some(1_699_996_500_000.0),
            issued_at: Some(1_699_996_400.0),
            skew_ms: Some(-600_500.0),
            token_type: TokenType::DPoP,
            dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        }
    }

    #[test]
    fn sessions_and_tombstones_round_trip() {
        let s = Record::Session(session());
        let text = serialize(&s);
        assert!(
            text.starts_with(r#"{"format":"tokenkeeper","v":1,"accessToken":"a.b.c""#),
            "{text}"
        );
        assert_eq!(parse(&text), Ok(s));
        let t = Record::Cleared {
            reason: ClearReason::InvalidGrant,
            at: 5.0,
        };
        assert_eq!(
            serialize(&t),
            r#"{"format":"tokenkeeper","v":1,"cleared":"invalid_grant","at":5}"#
        );
        assert_eq!(parse(&serialize(&t)), Ok(t));
    }

    #[test]
    fn a_record_written_before_dpop_jkt_is_read_without_one() {
        let mut old = session();
        old.dpop_jkt = None;
        let text = serialize(&Record::Session(old.clone()));
        assert!(!text.contains("dpopJkt"), "{text}");
        assert_eq!(parse(&text), Ok(Record::Session(old)));
    }

    #[test]
    fn only_a_record_of_the_same_sub_counts_as_the_same_users() {
        use base64::Engine;
        let with_token = |token: String| StoredSession {
            access_token: token,
            ..session()
        };
        let jwt = |payload: &str| {
            let b64 = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
            with_token(format!("{}.{}.sig", b64(r#"{"alg":"none"}"#), b64(payload)))
        };
        let alice = jwt(r#"{"sub":"alice","exp":1}"#);
        assert!(same_subject(
            Some(&alice),
            &jwt(r#"{"sub":"alice","exp":2}"#)
        ));
        assert!(!same_subject(Some(&alice), &jwt(r#"{"sub":"mallory"}"#)));
        assert!(!same_subject(Some(&alice), &jwt(r#"{"exp":2}"#)));
        assert!(!same_subject(Some(&alice), &with_token("opaque".into())));
        // Nothing to compare with: signed out, or an opaque token held.
        assert!(same_subject(None, &jwt(r#"{"sub":"mallory"}"#)));
        assert!(same_subject(
            Some(&with_token("opaque".into())),
            &jwt(r#"{"sub":"mallory"}"#)
        ));
    }

    #[test]
    fn numbers_keep_milliseconds() {
        for n in [
            0.0,
            1.0,
            1.5,
            1.25,
            1.125,
            1_700_000_000.001,
            -3.5,
            1_699_990_000_123.0,
        ] {
            let mut out = String::new();
            write_number(&mut out, n);
            assert_eq!(out.parse::<f64>().unwrap(), n, "{out}");
        }
    }

    /// Found by the `calls` fuzz target: a stored access token with a space, a line break or
    /// a non-ASCII character was restored and handed out, though no way in accepts one.
    #[test]
    fn a_record_with_a_token_outside_vschar_is_corrupt() {
        let good = serialize(&Record::Session(session()));
        for (token, bad) in [
            (r#""a.b.c""#, r#""a b""#),
            (r#""a.b.c""#, r#""a\r\nb""#),
            (r#""a.b.c""#, r#""caf\u00e9""#),
            (r#""a.b.c""#, "\"\u{fffd}\""),
            (r#""r\"1\\""#, r#""r\t1""#),
            (r#""r\"1\\""#, r#""""#),
        ] {
            let text = good.replace(token, bad);
            assert_ne!(text, good);
            assert_eq!(parse(&text), Err(RecordError::Corrupt), "{text}");
        }
        let with_id =
            |id: &str| good.replace(r#""expiresAt""#, &format!(r#""idToken":{id},"expiresAt""#));
        assert_eq!(parse(&with_id(r#""i d""#)), Err(RecordError::Corrupt));
        assert!(parse(&with_id(r#""i.d""#)).is_ok());
        assert!(parse(&with_id("null")).is_ok());
    }

    #[test]
    fn corrupt_foreign_and_future_records_are_told_apart() {
        let good = serialize(&Record::Session(session()));
        assert_eq!(
            parse(&good[..good.len() - 5]),
            Err(RecordError::Corrupt),
            "truncated"
        );
        assert_eq!(parse("not json"), Err(RecordError::Corrupt));
        assert_eq!(parse(""), Err(RecordError::Corrupt));
        assert_eq!(parse("[1,2]"), Err(RecordError::Foreign));
        assert_eq!(parse(r#""a string""#), Err(RecordError::Foreign));
        assert_eq!(parse(r#"{"token":"abc"}"#), Err(RecordError::Foreign));
        assert_eq!(
            parse(r#"{"format":"other","v":1}"#),
            Err(RecordError::Foreign)
        );
        assert_eq!(
            parse(&good.replace(r#""v":1"#, r#""v":2"#)),
            Err(RecordError::FutureVersion)
        );
        assert_eq!(
            parse(&good.replace(r#""v":1"#, r#""v":0"#)),
            Err(RecordError::Corrupt)
        );
        assert_eq!(
            parse(&good.replace(r#""v":1,"#, "")),
            Err(RecordError::Corrupt)
        );
        assert_eq!(
            parse(&good.replace(r#""a.b.c""#, "7")),
            Err(RecordError::Corrupt)
        );
        assert_eq!(
            parse(&good.replace(r#""a.b.c""#, r#""""#)),
            Err(RecordError::Corrupt)
        );
        assert_eq!(
            parse(&good.replace("1699990000123", r#""soon""#)),
            Err(RecordError::Corrupt)
        );
        assert_eq!(
            parse(r#"{"format":"tokenkeeper","v":1,"cleared":"bored","at":1}"#),
            Err(RecordError::Corrupt)
        );
    }
}
