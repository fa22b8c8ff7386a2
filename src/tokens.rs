//! Token sets and what the keeper checks in them: value types shared by the keeper, the
//! refresh protocol and the token-endpoint client (so none of them imports another).
//!
//! Tokens reach the keeper from three places — `setTokens`, the app's `refresh` callback and
//! the token endpoint — always as JSON text, and all three go through [`token_set_from_json`]:
//! one set of rules for what a token may be.

use crate::error::KeeperError;
use crate::json::value::Value;
use crate::jwt::{self, MAX_TOKEN_LEN};

/// How an access token must be presented (RFC 6750 / RFC 9449).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenType {
    /// `Authorization: Bearer <token>`.
    #[default]
    Bearer,
    /// `Authorization: DPoP <token>` with a proof of the key it is bound to.
    DPoP,
}

impl TokenType {
    /// The name used in `Authorization` headers and results.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }

    /// A `token_type` as a server sends it (case-insensitive, RFC 6749 §7.1); anything
    /// unknown is used as a bearer token.
    pub fn from_name(name: &str) -> TokenType {
        if name.eq_ignore_ascii_case("dpop") {
            TokenType::DPoP
        } else {
            TokenType::Bearer
        }
    }
}

/// Tokens as an OAuth 2.0 token response gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenSet {
    /// A JWT, or an opaque token when `expires_in` is given.
    pub access_token: String,
    /// The refresh token, if any.
    pub refresh_token: Option<String>,
    /// The OpenID Connect ID token, if any.
    pub id_token: Option<String>,
    /// Lifetime of the access token in seconds, from receipt.
    pub expires_in: Option<f64>,
    /// How the access token is presented.
    pub token_type: TokenType,
}

/// The longest `expires_in` accepted: ten years. Anything longer is a server bug, and would
/// make expiry maths meaningless.
pub const MAX_EXPIRES_IN_S: f64 = 10.0 * 365.25 * 86_400.0;

/// What JavaScript puts in place of a value JSON cannot carry faithfully, so that the rules
/// stay here: a function, a non-finite number, another type (object, symbol...), a string
/// longer than [`MAX_TOKEN_LEN`] (not copied into wasm memory at all), and a configured URL
/// that `new URL()` refused.
pub mod marker {
    /// A function-valued option (`refresh`, `revoke`, `now`).
    pub const FUNCTION: &str = "\u{0}function";
    /// `NaN`, `Infinity` or `-Infinity`.
    pub const NON_FINITE: &str = "\u{0}non-finite";
    /// A value of a type the field never takes.
    pub const WRONG_TYPE: &str = "\u{0}wrong-type";
    /// A string over the length limit, left on the JavaScript side.
    pub const TOO_LONG: &str = "\u{0}too-long";
    /// A configured URL the platform's URL parser refused (see `crate::url`).
    pub const NOT_A_URL: &str = "\u{0}not-a-url";
}

/// Why a token set was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSetError {
    /// Not an object, or a field of the wrong type.
    Shape,
    /// No access token, or an empty one.
    NoAccessToken,
    /// A token longer than 1 MiB.
    TooLong,
    /// A token with characters outside RFC 6749's VSCHAR (0x21-0x7E: no spaces, no CR/LF,
    /// nothing that could break an HTTP header).
    Characters,
    /// `expires_in` not a finite number from 0 to ten years.
    ExpiresIn,
}

impl TokenSetError {
    /// What `setTokens` throws for it (`ERR_INVALID_ARGUMENT`).
    pub fn as_argument_error(self) -> KeeperError {
        KeeperError::InvalidArgument(match self {
            TokenSetError::Shape => {
                "tokens must be { accessToken: string, refreshToken?: string, idToken?: string, \
                 expiresIn?: number, tokenType?: string } or a raw token response"
            }
            TokenSetError::NoAccessToken => "accessToken must be a non-empty string",
            TokenSetError::TooLong => "tokens longer than 1 MiB are refused",
            TokenSetError::Characters => {
                "tokens must be printable ASCII without spaces (RFC 6749 VSCHAR)"
            }
            TokenSetError::ExpiresIn => {
                "expiresIn must be a finite number of seconds from 0 to 10 years"
            }
        })
    }
}

/// Whether `token` is one or more VSCHAR (0x21-0x7E) and at most [`MAX_TOKEN_LEN`] bytes.
pub fn is_token_text(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn token_field(value: Option<&Value>) -> Result<Option<String>, TokenSetError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == marker::TOO_LONG => Err(TokenSetError::TooLong),
        Some(Value::String(s)) if s.starts_with('\u{0}') => Err(TokenSetError::Shape),
        Some(Value::String(s)) if s.len() > MAX_TOKEN_LEN => Err(TokenSetError::TooLong),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if is_token_text(s) => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(TokenSetError::Characters),
        Some(_) => Err(TokenSetError::Shape),
    }
}

fn expires_in_field(value: Option<&Value>) -> Result<Option<f64>, TokenSetError> {
    let seconds = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => *n,
        // Some servers send expires_in as a string of digits.
        Some(Value::String(s)) => plain_decimal(s.as_bytes()).ok_or(TokenSetError::ExpiresIn)?,
        Some(_) => return Err(TokenSetError::ExpiresIn),
    };
    if seconds.is_finite() && (0.0..=MAX_EXPIRES_IN_S).contains(&seconds) {
        Ok(Some(seconds))
    } else {
        Err(TokenSetError::ExpiresIn)
    }
}

/// `"300"` or `"12.5"` as a number (no sign, no exponent); `None` otherwise.
fn plain_decimal(text: &[u8]) -> Option<f64> {
    let text = text.trim_ascii();
    let dots = text.iter().filter(|b| **b == b'.').count();
    let digits_only = text.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let well_placed =
        text.first().is_some_and(u8::is_ascii_digit) && text.last().is_some_and(u8::is_ascii_digit);
    (digits_only && dots <= 1 && well_placed).then(|| crate::number::parse_json_number(text))
}

impl TokenSet {
    /// Checks the rules every token set must meet, however it was made: a non-empty access
    /// token, optional tokens non-empty when present, all of them [`is_token_text`], and a
    /// sane `expires_in`.
    pub fn check(&self) -> Result<(), TokenSetError> {
        if self.access_token.is_empty() {
            return Err(TokenSetError::NoAccessToken);
        }
        for token in [
            Some(&self.access_token),
            self.refresh_token.as_ref(),
            self.id_token.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if token.is_empty() {
                return Err(TokenSetError::Shape);
            }
            if token.len() > MAX_TOKEN_LEN {
                return Err(TokenSetError::TooLong);
            }
            if !is_token_text(token) {
                return Err(TokenSetError::Characters);
            }
        }
        match self.expires_in {
            Some(e) if !(e.is_finite() && (0.0..=MAX_EXPIRES_IN_S).contains(&e)) => {
                Err(TokenSetError::ExpiresIn)
            }
            _ => Ok(()),
        }
    }
}

/// Reads a token set from a JSON object with the OAuth 2.0 token response's member names
/// (`access_token`, `refresh_token`, `id_token`, `expires_in`, `token_type`); other members
/// (`scope`, ...) are ignored. Empty optional tokens count as absent.
pub fn token_set_from_json(value: &Value) -> Result<TokenSet, TokenSetError> {
    if value.members().is_none() {
        return Err(TokenSetError::Shape);
    }
    let access_token =
        token_field(value.get("access_token"))?.ok_or(TokenSetError::NoAccessToken)?;
    let token_type = match value.get("token_type") {
        None | Some(Value::Null) => TokenType::Bearer,
        Some(Value::String(name)) => TokenType::from_name(name),
        Some(_) => return Err(TokenSetError::Shape),
    };
    let tokens = TokenSet {
        access_token,
        refresh_token: token_field(value.get("refresh_token"))?,
        id_token: token_field(value.get("id_token"))?,
        expires_in: expires_in_field(value.get("expires_in"))?,
        token_type,
    };
    tokens.check()?;
    Ok(tokens)
}

/// The access token's expiry and issue time (epoch seconds, issuer time).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TokenTimes {
    /// Expiry: the JWT's `exp`, else `expires_in` from receipt.
    pub exp: Option<f64>,
    /// The JWT's `iat`, if any.
    pub iat: Option<f64>,
}

/// Reads the access token's times; `issuer_now_ms` is the receipt time in issuer time. A
/// token shaped like a JWT must decode; an opaque one relies on `expires_in`.
pub fn token_times(tokens: &TokenSet, issuer_now_ms: f64) -> Result<TokenTimes, KeeperError> {
    let from_expires_in = tokens.expires_in.map(|e| issuer_now_ms / 1000.0 + e);
    let looks_like_jwt = tokens.access_token.bytes().filter(|b| *b == b'.').count() == 2;
    match jwt::time_claims(&tokens.access_token) {
        Ok(claims) => Ok(TokenTimes {
            exp: claims.exp.or(from_expires_in),
            iat: claims.iat,
        }),
        Err(e) if looks_like_jwt => Err(KeeperError::Token(e)),
        Err(_) => Ok(TokenTimes {
            exp: from_expires_in,
            iat: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::value::parse;

    fn read(text: &str) -> Result<TokenSet, TokenSetError> {
        token_set_from_json(&parse(text).unwrap())
    }

    #[test]
    fn a_token_response_gives_a_token_set() {
        let set = read(r#"{"access_token":"at","token_type":"DPoP","expires_in":"60","refresh_token":"rt","id_token":null,"scope":"x"}"#).unwrap();
        assert_eq!(
            set,
            TokenSet {
                access_token: "at".into(),
                refresh_token: Some("rt".into()),
                id_token: None,
                expires_in: Some(60.0),
                token_type: TokenType::DPoP,
            }
        );
        assert_eq!(
            read(r#"{"access_token":"at","token_type":"bearer"}"#)
                .unwrap()
                .token_type,
            TokenType::Bearer
        );
        assert_eq!(
            read(r#"{"access_token":"at","refresh_token":""}"#)
                .unwrap()
                .refresh_token,
            None
        );
    }

    #[test]
    fn tokens_must_be_printable_ascii_without_spaces() {
        for bad in [
            r#""a b""#,
            r#""a\r\nb""#,
            r#""caf\u00e9""#,
            r#""a\u0000""#,
            r#""tab\t""#,
        ] {
            assert_eq!(
                read(&format!(r#"{{"access_token":{bad}}}"#)),
                Err(TokenSetError::Characters),
                "{bad}"
            );
            assert_eq!(
                read(&format!(r#"{{"access_token":"ok","refresh_token":{bad}}}"#)),
                Err(TokenSetError::Characters)
            );
        }
        assert!(read(r#"{"access_token":"!~azAZ09-._~+/="}"#).is_ok());
    }

    #[test]
    fn expires_in_must_be_finite_and_at_most_ten_years() {
        for bad in [
            "-1",
            "\"-5\"",
            "3.2e9",
            "\"1e3\"",
            "true",
            "{}",
            "\"\\u0000non-finite\"",
        ] {
            assert_eq!(
                read(&format!(r#"{{"access_token":"a","expires_in":{bad}}}"#)),
                Err(TokenSetError::ExpiresIn),
                "{bad}"
            );
        }
        assert_eq!(
            read(r#"{"access_token":"a","expires_in":0}"#)
                .unwrap()
                .expires_in,
            Some(0.0)
        );
        assert!(read(r#"{"access_token":"a","expires_in":315000000}"#).is_ok());
    }

    #[test]
    fn shapes_and_lengths_are_checked() {
        assert_eq!(read("[1]"), Err(TokenSetError::Shape));
        assert_eq!(read("{}"), Err(TokenSetError::NoAccessToken));
        assert_eq!(
            read(r#"{"access_token":""}"#),
            Err(TokenSetError::NoAccessToken)
        );
        assert_eq!(read(r#"{"access_token":7}"#), Err(TokenSetError::Shape));
        assert_eq!(
            read(r#"{"access_token":"a","token_type":1}"#),
            Err(TokenSetError::Shape)
        );
        assert_eq!(
            read(r#"{"access_token":"\u0000too-long"}"#),
            Err(TokenSetError::TooLong)
        );
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(
            read(&format!(r#"{{"access_token":"{long}"}}"#)),
            Err(TokenSetError::TooLong)
        );
    }
}
