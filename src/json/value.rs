//! A small JSON tree for the cold paths: options, token sets and the browser's reports reach
//! the keeper as JSON text (one string across the wasm boundary instead of a property read
//! per field). The text is validated by the strict scanner first, so building the tree
//! cannot fail half-way; nesting deeper than [`MAX_DEPTH`] is refused rather than recursed
//! into (a hostile options object must not overflow the stack).

use super::{scan_members, unescape, JsonFault, MemberValue, MemberVisitor};
use crate::number::parse_json_number;

/// The deepest nesting read; options and reports are two or three levels deep.
pub const MAX_DEPTH: usize = 16;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (finite: JSON has no other).
    Number(f64),
    /// A string, escapes resolved.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object's members in order, duplicates included.
    Object(Vec<(String, Value)>),
}

/// Parses `text` as one JSON value; `None` when it is not JSON or nests deeper than
/// [`MAX_DEPTH`].
pub fn parse(text: &str) -> Option<Value> {
    // The scanner validates any value, reporting one that is not an object only after it has
    // read the whole text. (Wrapping the text in `{"v":…}` instead would also accept
    // `1,"w":2`, whose wrapped form is an object.)
    struct Nothing;
    impl MemberVisitor for Nothing {
        fn key(&mut self, _: &[u8], _: bool) -> bool {
            false
        }
        fn value(&mut self, _: MemberValue<'_>) {}
    }
    match scan_members(text.as_bytes(), &mut Nothing) {
        Ok(()) | Err(JsonFault::NotObject) => {}
        Err(JsonFault::Syntax | JsonFault::ClaimType(_)) => return None,
    }
    let mut reader = Reader {
        s: text.as_bytes(),
        i: 0,
    };
    reader.value(0)
}

impl Value {
    /// The member `key` of an object (the last one, as `JSON.parse` keeps), if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|m| &m.1),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value of a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An object's members.
    pub fn members(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An array's elements.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::Array(e) => Some(e),
            _ => None,
        }
    }
}

/// Builds the tree from text the scanner already accepted, so every branch below may assume
/// well-formed input and simply stop (`None`) on anything else.
struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&byte) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let byte = *self.s.get(self.i)?;
        Some(match byte {
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Value::Object(members)
            }
            b'[' => {
                self.i += 1;
                let mut elements = Vec::new();
                if !self.eat(b']') {
                    loop {
                        elements.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Value::Array(elements)
            }
            b'"' => Value::String(self.string()?),
            b't' => self.word(b"true", Value::Bool(true))?,
            b'f' => self.word(b"false", Value::Bool(false))?,
            b'n' => self.word(b"null", Value::Null)?,
            _ => {
                let start = self.i;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.s.get(self.i)
                {
                    self.i += 1;
                }
                Value::Number(parse_json_number(self.s.get(start..self.i)?))
            }
        })
    }

    fn word(&mut self, word: &[u8], value: Value) -> Option<Value> {
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word).then(|| {
            self.i = end;
            value
        })
    }

    /// A string at `"` (already validated): its text with escapes resolved.
    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            match *self.s.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        self.i = i + 1;
        let raw = self.s.get(start..i)?;
        Some(if escaped {
            unescape(raw)
        } else {
            core::str::from_utf8(raw).ok()?.to_owned()
        })
    }
}

/// Appends `members` as a JSON object; each value is already JSON text.
pub fn write_object(out: &mut String, members: &[(&str, &str)]) {
    out.push('{');
    for (i, (name, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        super::write_string(out, name);
        out.push(':');
        out.push_str(value);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let v =
            parse(r#" {"a":[1,-2.5e1,"x\n\u00e9"],"b":{"c":null,"d":true},"e":false} "#).unwrap();
        assert_eq!(
            v.get("a").unwrap().elements().unwrap(),
            &[
                Value::Number(1.0),
                Value::Number(-25.0),
                Value::String("x\né".into())
            ]
        );
        assert_eq!(v.get("b").unwrap().get("c"), Some(&Value::Null));
        assert_eq!(v.get("b").unwrap().get("d").unwrap().as_bool(), Some(true));
        assert_eq!(v.get("e"), Some(&Value::Bool(false)));
        assert_eq!(v.get("zz"), None);
        assert_eq!(parse("3"), Some(Value::Number(3.0)));
        assert_eq!(parse(r#""s""#), Some(Value::String("s".into())));
    }

    #[test]
    fn the_last_duplicate_wins_like_json_parse() {
        assert_eq!(
            parse(r#"{"a":1,"a":2}"#).unwrap().get("a"),
            Some(&Value::Number(2.0))
        );
    }

    #[test]
    fn invalid_json_and_deep_nesting_are_refused_without_recursing_far() {
        for bad in ["", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1}x", "\"\\x\""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(parse(&deep), None);
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_some());
    }

    /// Found by the `token_response` fuzz target: text that is a value followed by more
    /// members (`"a","b":1`) is no JSON, but it was read as its first value, because it was
    /// validated wrapped in `{"v":…}`, where it makes an object.
    #[test]
    fn a_value_followed_by_members_is_not_json() {
        for bad in [
            r#""invalid_grant","err]or_description":200"#,
            r#"1,"w":2"#,
            r#"{"access_token":"at"},"x":{}"#,
            r#"null ,"a":[1]"#,
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse(" 1 "), Some(Value::Number(1.0)));
        assert_eq!(parse(r#" "a" "#), Some(Value::String("a".into())));
    }
}
