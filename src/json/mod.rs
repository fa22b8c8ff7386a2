//! A strict JSON validator (RFC 8259, the grammar `JSON.parse` accepts) that shows the
//! top-level members of an object to a visitor on the way, plus the small writer and
//! unescaper the stored record needs.
//!
//! Why not serde_json: the JavaScript side builds objects with the engine's own
//! `JSON.parse`, which is the fastest way to make a JS object; here we only have to know that
//! `JSON.parse` will succeed, that the value is an object, and what a few top-level members
//! hold. A validating scan does that in one pass without allocating a tree, and keeps
//! serde_json's code out of the wasm module. It is iterative, so no nesting depth can
//! overflow the stack.

pub mod value;

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

/// A top-level member's value, as the visitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberValue<'a> {
    /// A number; the text of it (valid JSON number syntax).
    Number(&'a [u8]),
    /// A string; its raw text between the quotes, and whether it contains escapes.
    String {
        /// The bytes between the quotes, escapes not yet resolved.
        raw: &'a [u8],
        /// Whether `raw` contains a backslash escape.
        escaped: bool,
    },
    /// An object, array, `true`, `false` or `null`.
    Other,
}

/// Sees the members of the top-level object, in order (duplicates included).
pub trait MemberVisitor {
    /// A member's key; return whether its value is wanted.
    fn key(&mut self, raw: &[u8], escaped: bool) -> bool;
    /// The value of the last key for which [`MemberVisitor::key`] returned true.
    fn value(&mut self, value: MemberValue<'_>);
}

/// Validates `text` as JSON and requires an object, showing its members to `visitor`.
/// The visitor is dynamic: it is called once per top-level member, and one copy of the
/// scanner in the wasm module serves every visitor.
pub fn scan_members(text: &[u8], visitor: &mut dyn MemberVisitor) -> Result<(), JsonFault> {
    let mut scanner = Scanner {
        s: text,
        i: 0,
        open: Nesting::default(),
        wanted: false,
        visitor,
    };
    scanner.skip_ws();
    let is_object = scanner.peek() == Some(b'{');
    scanner.run().map_err(|()| JsonFault::Syntax)?;
    if is_object {
        Ok(())
    } else {
        Err(JsonFault::NotObject)
    }
}

/// What a top-level claim was last seen to hold (JSON.parse keeps the last duplicate).
#[derive(Clone, Copy)]
enum Seen {
    Absent,
    Number(f64),
    NotNumber,
}

struct TimeClaimVisitor {
    current: Option<TimeClaim>,
    seen: [Seen; 3],
}

impl MemberVisitor for TimeClaimVisitor {
    fn key(&mut self, raw: &[u8], escaped: bool) -> bool {
        self.current = if escaped {
            claim_named(&unescape_short(raw))
        } else {
            claim_named(raw)
        };
        self.current.is_some()
    }

    fn value(&mut self, value: MemberValue<'_>) {
        if let Some(c) = self.current {
            self.seen[c as usize] = match value {
                MemberValue::Number(text) => Seen::Number(parse_json_number(text)),
                _ => Seen::NotNumber,
            };
        }
    }
}

/// Validates `text` as JSON, requires an object, and returns its top-level time claims.
pub fn scan_object(text: &[u8]) -> Result<TimeClaims, JsonFault> {
    let mut visitor = TimeClaimVisitor {
        current: None,
        seen: [Seen::Absent; 3],
    };
    scan_members(text, &mut visitor)?;
    let mut claims = TimeClaims::default();
    for (slot, which) in [
        (&mut claims.exp, TimeClaim::Exp),
        (&mut claims.nbf, TimeClaim::Nbf),
        (&mut claims.iat, TimeClaim::Iat),
    ] {
        match visitor.seen[which as usize] {
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
    /// The containers open around the current position.
    open: Nesting,
    /// Whether the visitor wants the value about to be read (top-level members only).
    wanted: bool,
    visitor: &'a mut dyn MemberVisitor,
}

type Step = Result<(), ()>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Object,
    Array,
}

/// The open containers, innermost last. The first 64 levels are bits of a word, deeper ones
/// (legal, but no token has them) go to a `Vec`: scanning a token allocates nothing.
#[derive(Default)]
struct Nesting {
    /// Bit `k` is set when level `k` (from 0) is an object.
    shallow: u64,
    depth: usize,
    deep: Vec<Container>,
}

impl Nesting {
    const SHALLOW: usize = 64;

    #[inline]
    fn push(&mut self, container: Container) {
        if self.depth < Self::SHALLOW {
            let bit = 1u64 << self.depth;
            if container == Container::Object {
                self.shallow |= bit;
            } else {
                self.shallow &= !bit;
            }
        } else {
            self.deep.push(container);
        }
        self.depth += 1;
    }

    #[inline]
    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth >= Self::SHALLOW {
            self.deep.pop();
        }
    }

    #[inline]
    fn innermost(&self) -> Option<Container> {
        match self.depth {
            0 => None,
            d if d <= Self::SHALLOW => Some(if self.shallow >> (d - 1) & 1 == 1 {
                Container::Object
            } else {
                Container::Array
            }),
            _ => self.deep.last().copied(),
        }
    }

    #[inline]
    fn depth(&self) -> usize {
        self.depth
    }
}

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
            let wanted = core::mem::take(&mut self.wanted);
            let byte = self.peek().ok_or(())?;
            if wanted && !matches!(byte, b'"' | b'-' | b'0'..=b'9') {
                self.visitor.value(MemberValue::Other);
            }
            match byte {
                b'{' => {
                    self.i += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                    } else {
                        self.open.push(Container::Object);
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
                        self.open.push(Container::Array);
                        continue 'value;
                    }
                }
                b'"' => {
                    let start = self.i + 1;
                    let escaped = self.string()?;
                    if wanted {
                        let raw = &self.s[start..self.i - 1];
                        self.visitor.value(MemberValue::String { raw, escaped });
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    self.number()?;
                    if wanted {
                        self.visitor
                            .value(MemberValue::Number(&self.s[start..self.i]));
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
                match self.open.innermost() {
                    None => {
                        return if self.i == self.s.len() {
                            Ok(())
                        } else {
                            Err(())
                        }
                    }
                    Some(Container::Object) => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.skip_ws();
                            self.member_key()?;
                            continue 'value;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            self.open.pop();
                        }
                        _ => return Err(()),
                    },
                    Some(Container::Array) => match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            continue 'value;
                        }
                        Some(b']') => {
                            self.i += 1;
                            self.open.pop();
                        }
                        _ => return Err(()),
                    },
                }
            }
        }
    }

    /// A member's `"key" :`; top-level keys go to the visitor.
    fn member_key(&mut self) -> Step {
        if self.peek() != Some(b'"') {
            return Err(());
        }
        let start = self.i + 1;
        let escaped = self.string()?;
        if self.open.depth() == 1 {
            let raw = &self.s[start..self.i - 1];
            self.wanted = self.visitor.key(raw, escaped);
        }
        self.skip_ws();
        self.expect(b':')
    }

    /// A string starting at `"`; returns whether it contained escapes.
    fn string(&mut self) -> Result<bool, ()> {
        self.i += 1;
        let mut escaped = false;
        loop {
            self.i += plain_prefix_len(self.s.get(self.i..).ok_or(())?);
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

/// How many leading bytes of `rest` need no attention inside a string: not `"`, not `\\`,
/// not a control character. Eight bytes at a time (SWAR): strings are most of a payload.
fn plain_prefix_len(rest: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `v` that is zero. A borrow can also mark a byte above a
    // zero byte, never one below it, so the lowest mark is exact.
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut i = 0;
    while let Some(chunk) = rest.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let special = zero_bytes(w ^ (ONES * u64::from(b'"')))
            | zero_bytes(w ^ (ONES * u64::from(b'\\')))
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGHS);
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = rest.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
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

/// The text of a string member as the visitor saw it: `raw` unescaped when `escaped`.
pub fn string_text(raw: &[u8], escaped: bool) -> String {
    if escaped {
        unescape(raw)
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
}

/// Resolves the escapes of a string's raw text (as validated by the scanner).
/// A lone surrogate, which JavaScript strings allow but Rust strings do not, becomes U+FFFD.
pub fn unescape(raw: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let esc = raw.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        let ch = match esc {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i);
                i += 4;
                if (0xd800..0xdc00).contains(&hi)
                    && raw.get(i) == Some(&b'\\')
                    && raw.get(i + 1) == Some(&b'u')
                {
                    let lo = hex4(raw, i + 2);
                    if (0xdc00..0xe000).contains(&lo) {
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                            .unwrap_or('\u{fffd}')
                    } else {
                        '\u{fffd}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{fffd}')
                }
            }
            other => other as char,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).unwrap_or_default()
}

fn hex4(raw: &[u8], at: usize) -> u32 {
    raw.get(at..at + 4)
        .and_then(|h| core::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0xfffd)
}

/// Appends `s` as a JSON string literal (quotes and escapes included).
#[inline(never)]
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
    fn write_string_round_trips_through_unescape() {
        for text in ["", "plain", "q\"b\\s/", "\u{1}\u{1f}\n\r\t", "é😀漢"] {
            let mut out = String::new();
            write_string(&mut out, text);
            assert!(scan_members(
                format!("{{\"k\":{out}}}").as_bytes(),
                &mut Collect::default()
            )
            .is_ok());
            assert_eq!(unescape(&out.as_bytes()[1..out.len() - 1]), text, "{out}");
        }
        assert_eq!(
            unescape(br"\ud83d\ude00 \u00e9 \/ \ud800x"),
            "😀 é / \u{fffd}x"
        );
    }

    #[derive(Default)]
    struct Collect(Vec<(String, String)>);
    impl MemberVisitor for Collect {
        fn key(&mut self, raw: &[u8], _escaped: bool) -> bool {
            self.0.push((unescape(raw), String::new()));
            true
        }
        fn value(&mut self, value: MemberValue<'_>) {
            self.0.last_mut().unwrap().1 = match value {
                MemberValue::Number(t) => format!("n:{}", String::from_utf8_lossy(t)),
                MemberValue::String { raw, .. } => format!("s:{}", unescape(raw)),
                MemberValue::Other => "other".into(),
            };
        }
    }

    #[test]
    fn the_visitor_sees_top_level_members_only() {
        let mut c = Collect::default();
        scan_members(
            br#"{"a":1.5,"b":"x\"y","c":{"d":2},"e":[3],"f":null}"#,
            &mut c,
        )
        .unwrap();
        let want = [
            ("a", "n:1.5"),
            ("b", "s:x\"y"),
            ("c", "other"),
            ("e", "other"),
            ("f", "other"),
        ];
        let got: Vec<(&str, &str)> = c.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_plain_prefix_stops_at_every_special_byte_in_every_position() {
        for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for at in 0..20 {
                let mut text = vec![b'a'; 20];
                text[at] = special;
                assert_eq!(plain_prefix_len(&text), at, "{special:#x} at {at}");
            }
        }
        assert_eq!(
            plain_prefix_len("é😀 ~\u{7f}ÿ".as_bytes()),
            "é😀 ~\u{7f}ÿ".len()
        );
        assert_eq!(plain_prefix_len(b""), 0);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200_000), "]".repeat(200_000));
        assert_eq!(ok(&deep), TimeClaims::default());
        let unclosed = format!("{{\"a\":{}", "[".repeat(200_000));
        assert_eq!(fault(&unclosed), JsonFault::Syntax);
    }

    #[test]
    fn objects_and_arrays_close_in_order_at_every_depth() {
        // Around 64 levels the scanner moves from its bit word to its Vec and back.
        for depth in [1usize, 2, 63, 64, 65, 66, 130] {
            let (mut open, mut close) = (String::new(), String::new());
            for level in 0..depth {
                if level % 3 == 1 {
                    open.push('[');
                    close.insert(0, ']');
                } else {
                    open.push_str("{\"k\":");
                    close.insert(0, '}');
                }
            }
            let good = format!("{{\"a\":{open}1{close},\"exp\":5}}");
            assert_eq!(ok(&good).exp, Some(5.0), "depth {depth}");
            // Swap the innermost closer for the other kind: refused at any depth.
            let inner = close.chars().next().unwrap();
            let wrong = if inner == ']' { '}' } else { ']' };
            let bad = format!("{{\"a\":{open}1{wrong}{},\"exp\":5}}", &close[1..]);
            assert_eq!(fault(&bad), JsonFault::Syntax, "depth {depth}");
            // And the outermost one, with everything inside correct.
            let outer = close.chars().last().unwrap();
            let wrong = if outer == ']' { '}' } else { ']' };
            let bad = format!("{{\"a\":{open}1{}{wrong}}}", &close[..close.len() - 1]);
            assert_eq!(fault(&bad), JsonFault::Syntax, "depth {depth}");
        }
    }
}
