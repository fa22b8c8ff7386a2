//! Reading a JSON number as an `f64`, correctly rounded.
//!
//! Time claims are almost always integers or short decimals, which the classic exact fast
//! path handles: a mantissa below 2^53 times or divided by a power of ten up to 10^22 is one
//! correctly rounded operation on exact values. Anything else goes to a full parser. In wasm
//! that is the engine's own `parseFloat` (also correctly rounded), so that the module does not
//! carry Rust's 15 KB of float-parsing tables for numbers no issuer writes.

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];
const MAX_EXACT: u64 = 1 << 53;

/// Parses text already validated as a JSON number.
pub fn parse_json_number(text: &[u8]) -> f64 {
    fast_path(text).unwrap_or_else(|| full_parse(text))
}

fn fast_path(text: &[u8]) -> Option<f64> {
    let (negative, rest) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0u32;
    let mut exp10: i32 = 0;
    let mut i = 0;
    let mut in_fraction = false;
    while i < rest.len() {
        match rest[i] {
            d @ b'0'..=b'9' => {
                // 19 digits cannot overflow a u64; the range is checked once, after the loop.
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                digits += 1;
                exp10 -= i32::from(in_fraction);
            }
            b'.' => in_fraction = true,
            b'e' | b'E' => {
                let exp_text = core::str::from_utf8(&rest[i + 1..]).ok()?;
                let explicit: i32 = exp_text
                    .strip_prefix('+')
                    .unwrap_or(exp_text)
                    .parse()
                    .ok()?;
                exp10 = exp10.checked_add(explicit)?;
                break;
            }
            _ => return None,
        }
        i += 1;
    }
    if digits > 19 || mantissa > MAX_EXACT {
        return None;
    }
    let m = mantissa as f64;
    let value = match exp10 {
        0 => m,
        1..=22 => m * POW10[exp10 as usize],
        -22..=-1 => m / POW10[(-exp10) as usize],
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

#[cfg(not(target_arch = "wasm32"))]
fn full_parse(text: &[u8]) -> f64 {
    core::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::NAN)
}

#[cfg(target_arch = "wasm32")]
fn full_parse(text: &[u8]) -> f64 {
    core::str::from_utf8(text)
        .map(js_sys::Number::parse_float)
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) {
        let want: f64 = text.parse().unwrap();
        let got = parse_json_number(text.as_bytes());
        assert_eq!(got.to_bits(), want.to_bits(), "{text}");
    }

    #[test]
    fn fast_path_is_exact() {
        for t in [
            "0",
            "-0",
            "1",
            "1700000000",
            "1700000000.75",
            "-1e3",
            "1E5",
            "1e+5",
            "12.5e-3",
            "0.1",
            "0.000001",
            "9007199254740992",
            "450359962737049.5",
            "1e22",
            "1e-22",
        ] {
            assert!(
                fast_path(t.as_bytes()).is_some(),
                "{t} should take the fast path"
            );
            check(t);
        }
    }

    #[test]
    fn everything_else_is_still_correct() {
        for t in [
            "9007199254740993",
            "1e23",
            "1e-23",
            "1e400",
            "-1e400",
            "1e-400",
            "12345678901234567890",
            "0.30000000000000004",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
            "1e99999999999",
        ] {
            check(t);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn agrees_with_the_standard_parser(int in 0u64..u64::MAX, frac in proptest::option::of(0u32..1_000_000),
                                           exp in proptest::option::of(-30i32..30), neg: bool) {
            let mut t = format!("{}{int}", if neg { "-" } else { "" });
            if let Some(f) = frac { t += &format!(".{f}"); }
            if let Some(e) = exp { t += &format!("e{e}"); }
            check(&t);
        }
    }
}
