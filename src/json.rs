//! A strict JSON validator (RFC 8259, the grammar `JSON.parse` accepts) that also picks out
//! the top-level time claims on the way.
//!
//! Why not serde_json: the JavaScript side builds the object with the engine's own
//! `JSON.parse`, which is the fastest way to make a JS object; here we only have to know that
//! `JSON.parse` will succeed, that the value is an object, and what `exp`/`nbf`/`iat` are.
//! A validating scan does that in one pass without allocating a tree, and keeps
//! serde_json's formatting code out of the wasm module. It is iterative, so no nesting
//! depth can overflow the stack.

use crate::claims::TimeClaims;
use crate::error::TimeClaim;
use crate::number::parse_json_number;

/// Why a JSON text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonFault {
    /// Not valid JSON.
    Syntax,
    /// Valid JSON, but the top-level value is not an object.
    NotObject,
    /// A top-level time claim holds something other than a number.
    ClaimType(TimeClaim),
}

/// What a top-level claim was last seen to hold (JSON.parse keeps the last duplicate).
#[derive(Clone, Copy)]
enum Seen {
    Absent,
    Number(f64),
    NotNumber,
}

/// Validates `text` as JSON, requires an object, and returns its top-level time claims.
pub fn scan_object(text: &[u8]) -> Result<TimeClaims, JsonFault> {
    let mut scanner = Scanner {
        s: text,
        i: 0,
        stack: Vec::new(),
        pending: None,
        seen: [Seen::Absent; 3],
    };
    scanner.skip_ws();
    let is_object = scanner.peek() == Some(b'{');
    scanner.run().map_err(|()| JsonFault::Syntax)?;
    if !is_object {
        return Err(JsonFault::NotObject);
    }
    let mut claims = TimeClaims::default();
    for (slot, which) in [
        (&mut claims.exp, TimeClaim::Exp),
        (&mut claims.nbf, TimeClaim::Nbf),
        (&mut claims.iat, TimeClaim::Iat),
    ] {
        match scanner.seen[which as usize] {
            Seen::Absent => {}
            Seen::Number(n) => *slot = Some(n),
            Seen::NotNumber => return Err(JsonFault::ClaimType(which)),
        }
    }
    Ok(claims)
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    /// Open containers: `b'{'` or `b'['`.
    stack: Vec<u8>,
    /// The time claim whose value is about to be read (top-level keys only).
    pending: Option<TimeClaim>,
    seen: [Seen; 3],
}

type Step = Result<(), ()>;

impl Scanner<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    #[inline]
    fn expect(&mut self, byte: u8) -> Step {
        if self.peek() == Some(byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(())
        }
    }

    /// The whole text: one value, then only white space.
    fn run(&mut self) -> Step {
        'value: loop {
            self.skip_ws();
            let claim = self.pending.take();
            let byte = self.peek().ok_or(())?;
            if let Some(c) = claim {
                self.seen[c as usize] = Seen::NotNumber;
            }
            match byte {
                b'{' => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        self.stack.push(b'{');
                        self.member_key()?;
                        continue 'value;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    } else {
                        self.stack.push(b'[');
                        continue 'value;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    self.number()?;
                    if let Some(c) = claim {
                        let n = parse_json_number(&self.s[start..self.i]);
                        self.seen[c as usize] = Seen::Number(n);
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => return Err(()),
            }
            // After a complete value: close containers or move to the next element.
            loop {
                self.skip_ws();
                match self.stack.last() {
                    None => {
                        return if self.i == self.s.len() {
                            Ok(())
                        } else {
                            Err(())
                        }
                    }
                    Some(b'{') => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.skip_ws();
                            self.member_key()?;
                            continue 'value;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            self.stack.pop();
                        }
                        _ => return Err(()),
                    },
                    Some(_) => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            continue 'value;
                        }
                        Some(b']') => {
                            self.i += 1;
                            self.stack.pop();
                        }
                        _ => return Err(()),
                    },
                }
            }
        }
    }

    /// A member's `"key" :`; remembers top-level time claim keys.
    fn member_key(&mut self) -> Step {
        if self.peek() != Some(b'"') {
            return Err(());
        }
        let start = self.i + 1;
        let escaped = self.string()?;
        if self.stack.len() == 1 {
            let raw = &self.s[start..self.i - 1];
            self.pending = if escaped {
                claim_named(&unescape_short(raw))
            } else {
                claim_named(raw)
            };
        }
        self.skip_ws();
        self.expect(b':')
    }

    /// A string starting at `"`; returns whether it contained escapes.
    fn string(&mut self) -> Result<bool, ()> {
        self.i += 1;
        let mut escaped = false;
        loop {
            let byte = self.peek().ok_or(())?;
            self.i += 1;
            match byte {
                b'"' => return Ok(escaped),
                b'\\' => {
                    escaped = true;
                    match self.peek().ok_or(())? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.s.get(self.i + 1..self.i + 5).ok_or(())?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(());
                            }
                            self.i += 5;
                        }
                        _ => return Err(()),
                    }
                }
                0..=0x1f => return Err(()),
                _ => {}
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Step {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(()),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.one_or_more_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn one_or_more_digits(&mut self) -> Step {
        let start = self.i;
        self.digits();
        if self.i == start {
            Err(())
        } else {
            Ok(())
        }
    }

    fn literal(&mut self, word: &[u8]) -> Step {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(())
        }
    }
}

fn claim_named(key: &[u8]) -> Option<TimeClaim> {
    match key {
        b"exp" => Some(TimeClaim::Exp),
        b"nbf" => Some(TimeClaim::Nbf),
        b"iat" => Some(TimeClaim::Iat),
        _ => None,
    }
}

/// Unescapes a key just far enough to recognise `"\u0065xp"` as `exp`, as `JSON.parse` does.
/// Keys longer than a claim name cannot match, so they are not unescaped.
fn unescape_short(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() && out.len() <= 3 {
        if raw[i] == b'\\' {
            let esc = raw.get(i + 1).copied().unwrap_or(b'\\');
            if esc == b'u' {
                let code = raw
                    .get(i + 2..i + 6)
                    .and_then(|h| core::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .unwrap_or(0);
                // Only ASCII can spell a claim name; anything else just makes it not match.
                out.push(if code < 0x80 { code as u8 } else { 0 });
                i += 6;
            } else {
                out.push(esc);
                i += 2;
            }
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    if i < raw.len() {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> TimeClaims {
        scan_object(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn fault(text: &str) -> JsonFault {
        scan_object(text.as_bytes()).expect_err(text)
    }

    #[test]
    fn accepts_objects_and_reads_time_claims() {
        assert_eq!(ok("{}"), TimeClaims::default());
        let c =
            ok(r#" {"exp": 1700000000.5, "nbf":-1e3, "iat":0, "x":{"exp":"nested is ignored"}} "#);
        assert_eq!(c.exp, Some(1_700_000_000.5));
        assert_eq!(c.nbf, Some(-1000.0));
        assert_eq!(c.iat, Some(0.0));
        let c = ok(
            r#"{"a":[1,2,{"b":[[],{}]}],"s":"\u00e9\n\"","t":true,"f":false,"n":null,"u":"é😀"}"#,
        );
        assert_eq!(c, TimeClaims::default());
    }

    #[test]
    fn the_last_duplicate_wins_like_json_parse() {
        assert_eq!(ok(r#"{"exp":"x","exp":5}"#).exp, Some(5.0));
        assert_eq!(
            fault(r#"{"exp":5,"exp":"x"}"#),
            JsonFault::ClaimType(TimeClaim::Exp)
        );
    }

    #[test]
    fn escaped_claim_names_are_recognised() {
        assert_eq!(ok(r#"{"\u0065xp":7}"#).exp, Some(7.0));
        assert_eq!(
            fault(r#"{"\u0069at":"7"}"#),
            JsonFault::ClaimType(TimeClaim::Iat)
        );
        assert_eq!(ok(r#"{"\u0065xpx":"7"}"#), TimeClaims::default());
    }

    #[test]
    fn claim_types_are_checked_only_at_the_top_level() {
        for bad in [r#""1""#, "true", "null", "[1]", "{}"] {
            let text = format!(r#"{{"nbf":{bad}}}"#);
            assert_eq!(fault(&text), JsonFault::ClaimType(TimeClaim::Nbf), "{text}");
        }
        assert_eq!(
            ok(r#"{"a":{"exp":"x"},"b":[{"iat":null}]}"#),
            TimeClaims::default()
        );
    }

    #[test]
    fn not_an_object() {
        for text in ["[]", "1", "\"s\"", "null", " true "] {
            assert_eq!(fault(text), JsonFault::NotObject, "{text}");
        }
    }

    #[test]
    fn syntax_errors() {
        for text in [
            "",
            " ",
            "{",
            "}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "[1,]",
            "{a:1}",
            "{'a':1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":+1}",
            "{\"a\":-}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\t\"}",
            "{\"a\":tru}",
            "{} {}",
            "{\"a\":1}x",
            "{\"a\":NaN}",
            "{\"a\":Infinity}",
            "\u{feff}{}",
            "{\"a\":[1 2]}",
            "[[[[",
            "{\"a\":\"unterminated}",
        ] {
            assert_eq!(fault(text), JsonFault::Syntax, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200_000), "]".repeat(200_000));
        assert_eq!(ok(&deep), TimeClaims::default());
        let unclosed = format!("{{\"a\":{}", "[".repeat(200_000));
        assert_eq!(fault(&unclosed), JsonFault::Syntax);
    }
}
