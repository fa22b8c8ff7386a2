//! The OAuth 2.0 refresh grant (RFC 6749 §6) without the HTTP: the form body to POST, and
//! what a token endpoint's answer means for the keeper.

use crate::json::{scan_members, string_text, MemberValue, MemberVisitor};
use crate::keeper::TokenSet;
use crate::number::parse_json_number;

/// The parameters of the built-in refresh grant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OAuthClient {
    /// The token endpoint's URL.
    pub token_endpoint: String,
    /// The public client's `client_id`.
    pub client_id: String,
    /// The `scope` to ask for, if any.
    pub scope: Option<String>,
    /// Further form parameters (e.g. `resource`, `audience`).
    pub extra_params: Vec<(String, String)>,
}

/// Why a refresh did not give tokens, and so what to do next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefreshFailure {
    /// A network error, 5xx or 429: try again later (no sooner than `retry_after_ms`).
    Retry {
        /// The server's `Retry-After`, in ms, if it sent one.
        retry_after_ms: Option<f64>,
    },
    /// `invalid_grant`, or another 400/401: the refresh token is no good.
    InvalidGrant,
    /// Anything else (403, 404, a 200 without an access token): not worth retrying now.
    Rejected,
}

/// `application/x-www-form-urlencoded` body of a refresh-token grant.
pub fn refresh_form(client: &OAuthClient, refresh_token: &str) -> String {
    let mut body = String::with_capacity(128 + refresh_token.len());
    let mut pair = |k: &str, v: &str| {
        if !body.is_empty() {
            body.push('&');
        }
        form_encode(&mut body, k);
        body.push('=');
        form_encode(&mut body, v);
    };
    pair("grant_type", "refresh_token");
    pair("refresh_token", refresh_token);
    pair("client_id", &client.client_id);
    if let Some(scope) = &client.scope {
        pair("scope", scope);
    }
    for (k, v) in &client.extra_params {
        pair(k, v);
    }
    body
}

/// Percent-encodes as the URL standard's form encoder does (space as `+`).
fn form_encode(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
}

#[derive(Default)]
struct ResponseFields {
    current: usize,
    strings: [Option<String>; 4],
    expires_in: Option<f64>,
    mistyped: bool,
}

const FIELDS: [&str; 5] = [
    "access_token",
    "refresh_token",
    "id_token",
    "error",
    "expires_in",
];

impl MemberVisitor for ResponseFields {
    fn key(&mut self, raw: &[u8], escaped: bool) -> bool {
        let name = string_text(raw, escaped);
        match FIELDS.iter().position(|f| *f == name) {
            Some(i) => {
                self.current = i;
                true
            }
            None => false,
        }
    }

    fn value(&mut self, value: MemberValue<'_>) {
        match (self.current, value) {
            (4, MemberValue::Number(text)) => self.expires_in = Some(parse_json_number(text)),
            // Some servers send expires_in as a string.
            (4, MemberValue::String { raw, .. }) => self.expires_in = plain_decimal(raw),
            (i, MemberValue::String { raw, escaped }) if i < 4 => {
                let text = string_text(raw, escaped);
                self.strings[i] = Some(text);
            }
            (i, MemberValue::Other) if i != 0 => {} // null for an optional field
            _ => self.mistyped = true,
        }
    }
}

/// `"300"` or `"12.5"` as a number (no sign, no exponent); `None` otherwise.
fn plain_decimal(text: &[u8]) -> Option<f64> {
    let text = text.trim_ascii();
    let dots = text.iter().filter(|b| **b == b'.').count();
    let digits_only = text.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let well_placed =
        text.first().is_some_and(u8::is_ascii_digit) && text.last().is_some_and(u8::is_ascii_digit);
    (digits_only && dots <= 1 && well_placed).then(|| parse_json_number(text))
}

/// What the token endpoint's answer means. `body` is the response text; `retry_after_ms` the
/// parsed `Retry-After` header, if any.
pub fn interpret_response(
    status: u16,
    body: &str,
    retry_after_ms: Option<f64>,
) -> Result<TokenSet, RefreshFailure> {
    let mut fields = ResponseFields::default();
    let parsed = scan_members(body.as_bytes(), &mut fields).is_ok() && !fields.mistyped;
    let [access, refresh, id, error] = fields.strings;
    match status {
        200..=299 => match access.filter(|a| !a.is_empty()) {
            Some(access_token) if parsed => Ok(TokenSet {
                access_token,
                refresh_token: refresh.filter(|r| !r.is_empty()),
                id_token: id.filter(|i| !i.is_empty()),
                expires_in: fields.expires_in.filter(|e| e.is_finite() && *e >= 0.0),
            }),
            _ => Err(RefreshFailure::Rejected),
        },
        400 | 401 => Err(RefreshFailure::InvalidGrant),
        408 | 425 | 429 | 500..=599 => Err(RefreshFailure::Retry { retry_after_ms }),
        _ if error.as_deref() == Some("invalid_grant") => Err(RefreshFailure::InvalidGrant),
        _ => Err(RefreshFailure::Rejected),
    }
}

/// `Retry-After` as delay-seconds, in ms (HTTP dates are parsed by the caller, which has a
/// date parser).
pub fn retry_after_seconds(header: &str) -> Option<f64> {
    let seconds: u32 = header.trim().parse().ok()?;
    Some(f64::from(seconds) * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OAuthClient {
        OAuthClient {
            token_endpoint: "https://issuer.example/token".into(),
            client_id: "spa client".into(),
            scope: Some("openid offline_access".into()),
            extra_params: vec![("resource".into(), "https://api.example/a?b=c&d".into())],
        }
    }

    #[test]
    fn the_form_body_is_url_encoded() {
        assert_eq!(
            refresh_form(&client(), "r/t+1=="),
            "grant_type=refresh_token&refresh_token=r%2Ft%2B1%3D%3D&client_id=spa+client\
             &scope=openid+offline_access&resource=https%3A%2F%2Fapi.example%2Fa%3Fb%3Dc%26d"
        );
    }

    #[test]
    fn a_token_response_gives_a_token_set() {
        let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt2","scope":"x","id_token":null}"#;
        assert_eq!(
            interpret_response(200, body, None),
            Ok(TokenSet {
                access_token: "at".into(),
                refresh_token: Some("rt2".into()),
                id_token: None,
                expires_in: Some(300.0)
            })
        );
        let no_rotation = r#"{"access_token":"at","expires_in":"60"}"#;
        assert_eq!(
            interpret_response(200, no_rotation, None)
                .unwrap()
                .refresh_token,
            None
        );
        assert_eq!(
            interpret_response(200, no_rotation, None)
                .unwrap()
                .expires_in,
            Some(60.0)
        );
    }

    #[test]
    fn failures_are_classified() {
        let grant = r#"{"error":"invalid_grant","error_description":"reused"}"#;
        assert_eq!(
            interpret_response(400, grant, None),
            Err(RefreshFailure::InvalidGrant)
        );
        assert_eq!(
            interpret_response(401, "", None),
            Err(RefreshFailure::InvalidGrant)
        );
        assert_eq!(
            interpret_response(403, grant, None),
            Err(RefreshFailure::InvalidGrant)
        );
        assert_eq!(
            interpret_response(403, "{}", None),
            Err(RefreshFailure::Rejected)
        );
        assert_eq!(
            interpret_response(500, "oops", None),
            Err(RefreshFailure::Retry {
                retry_after_ms: None
            })
        );
        assert_eq!(
            interpret_response(429, "", Some(2000.0)),
            Err(RefreshFailure::Retry {
                retry_after_ms: Some(2000.0)
            })
        );
        assert_eq!(
            interpret_response(200, "<html>", None),
            Err(RefreshFailure::Rejected)
        );
        assert_eq!(
            interpret_response(200, r#"{"access_token":7}"#, None),
            Err(RefreshFailure::Rejected)
        );
        assert_eq!(
            interpret_response(200, r#"{"token_type":"Bearer"}"#, None),
            Err(RefreshFailure::Rejected)
        );
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(retry_after_seconds(" 2 "), Some(2000.0));
        assert_eq!(retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after_seconds("-1"), None);
    }
}
