//! The OAuth 2.0 requests the keeper makes, without the HTTP: the refresh grant's form
//! (RFC 6749 §6), the revocation request's form (RFC 7009), and what an answer — from the
//! token endpoint or from the app's own refresh callback — means for the keeper.

use crate::json::value::{self, Value};
use crate::tokens::{token_set_from_json, TokenSet};

/// The parameters of the built-in refresh grant.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OAuthClient {
    /// The token endpoint's canonical URL.
    pub token_endpoint: String,
    /// The public client's `client_id`.
    pub client_id: String,
    /// The `scope` to ask for, if any.
    pub scope: Option<String>,
    /// Further form parameters (e.g. `resource`, `audience`).
    pub extra_params: Vec<(String, String)>,
}

/// What an answer to a refresh means, and so what to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// New tokens.
    Tokens(TokenSet),
    /// A network error, timeout, 5xx, 408, 425 or 429: try again later (no sooner than
    /// `retry_after_ms`).
    Retry {
        /// The server's `Retry-After`, in ms, if it sent one.
        retry_after_ms: Option<f64>,
    },
    /// `invalid_grant`: the refresh token is no good.
    InvalidGrant,
    /// The app's settings are wrong (`invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_request`, a 404 or 405, or a
    /// 400/401 that does not say `invalid_grant`): nobody is signed out, and retrying will
    /// not help until the app is fixed.
    Config,
    /// A DPoP server wants a nonce (RFC 9449 §8): send again with its `DPoP-Nonce`.
    UseDpopNonce,
    /// A DPoP server refused the proof (`invalid_dpop_proof`), most often its `iat` against a
    /// client clock that is off: not a verdict on the refresh token.
    DpopProofRefused,
    /// Anything else (403, a redirect, a 200 without usable tokens): retrying now will not
    /// help.
    Rejected,
}

/// `application/x-www-form-urlencoded` body of a refresh-token grant.
pub fn refresh_form(client: &OAuthClient, refresh_token: &str) -> String {
    let mut form = Form::with_capacity(128 + refresh_token.len());
    form.pair("grant_type", "refresh_token");
    form.pair("refresh_token", refresh_token);
    form.pair("client_id", &client.client_id);
    if let Some(scope) = &client.scope {
        form.pair("scope", scope);
    }
    for (k, v) in &client.extra_params {
        form.pair(k, v);
    }
    form.0
}

/// `application/x-www-form-urlencoded` body of an RFC 7009 revocation request.
pub fn revocation_form(client_id: Option<&str>, token: &str, hint: &str) -> String {
    let mut form = Form::with_capacity(96 + token.len());
    form.pair("token", token);
    form.pair("token_type_hint", hint);
    if let Some(id) = client_id {
        form.pair("client_id", id);
    }
    form.0
}

struct Form(String);

impl Form {
    fn with_capacity(n: usize) -> Form {
        Form(String::with_capacity(n))
    }

    fn pair(&mut self, key: &str, value: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        form_encode(&mut self.0, key);
        self.0.push('=');
        form_encode(&mut self.0, value);
    }
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

/// What the token endpoint's answer means. `body` is the response text (at most 1 MiB: the
/// browser side stops reading beyond that); `retry_after_ms` the `Retry-After` header.
pub fn classify_answer(status: u16, body: &str, retry_after_ms: Option<f64>) -> Answer {
    let json = value::parse(body);
    let error = json
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(Value::as_str);
    match status {
        200..=299 => match json.as_ref().map(token_set_from_json) {
            Some(Ok(tokens)) => Answer::Tokens(tokens),
            _ => Answer::Rejected,
        },
        400 | 401 if error == Some("use_dpop_nonce") => Answer::UseDpopNonce,
        400 | 401 if error == Some("invalid_dpop_proof") => Answer::DpopProofRefused,
        400 | 401 if error == Some("invalid_grant") => Answer::InvalidGrant,
        // RFC 6749 §5.2: the server names what is wrong. Anything but `invalid_grant` is about
        // the request as the app configured it; and a 400/401 naming nothing readable is not
        // the server speaking about the grant (a gateway, the wrong URL such as userinfo's):
        // signing every tab out for it would turn a settings mistake into lost sessions.
        400 | 401 | 404 | 405 => Answer::Config,
        408 | 425 | 429 | 500..=599 => Answer::Retry { retry_after_ms },
        _ if error == Some("invalid_grant") => Answer::InvalidGrant,
        _ if error.is_some_and(is_config_error) => Answer::Config,
        _ => Answer::Rejected,
    }
}

/// The OAuth error codes that say the app's settings are wrong, not the user's grant.
fn is_config_error(code: &str) -> bool {
    matches!(
        code,
        "invalid_client"
            | "unauthorized_client"
            | "unsupported_grant_type"
            | "invalid_scope"
            | "invalid_request"
    )
}

/// What an error thrown by the app's refresh callback means: `invalid_grant` as its `error`
/// or `code` (the OAuth error code, as SDKs put it), or a 400/401 `status` without another
/// code, signs out; a code saying the settings are wrong (`invalid_client`...) stops
/// refreshing without signing out; anything else is retried.
pub fn classify_thrown(error: Option<&str>, code: Option<&str>, status: Option<f64>) -> Answer {
    let says_invalid_grant = error == Some("invalid_grant") || code == Some("invalid_grant");
    if error.or(code).is_some_and(is_config_error) && !says_invalid_grant {
        Answer::Config
    } else if says_invalid_grant || matches!(status, Some(s) if s == 400.0 || s == 401.0) {
        Answer::InvalidGrant
    } else {
        Answer::Retry {
            retry_after_ms: None,
        }
    }
}

/// The longest `Retry-After` read, ms: one day. Longer values (a 20-digit number, a date
/// years ahead) are a broken or hostile server, not a plan; the hold is capped lower still.
pub const MAX_RETRY_AFTER_MS: f64 = 86_400_000.0;

/// `Retry-After` in ms: delay-seconds, or an HTTP date the browser side already turned into
/// epoch ms (`date_ms`), measured from `now_ms`; at most [`MAX_RETRY_AFTER_MS`]. Nothing
/// usable gives `None`.
pub fn retry_after_ms(header: Option<&str>, date_ms: Option<f64>, now_ms: f64) -> Option<f64> {
    let text = header?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Saturates: every digit is read (leading zeros included), and the value stops
        // growing past the cap, so no length of digits can overflow or wrap.
        let ms = text.bytes().fold(0f64, |n, d| {
            (n * 10.0 + f64::from(d - b'0') * 1000.0).min(MAX_RETRY_AFTER_MS)
        });
        return Some(ms);
    }
    date_ms
        .filter(|d| d.is_finite())
        .map(|d| (d - now_ms).clamp(0.0, MAX_RETRY_AFTER_MS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::TokenType;

    fn client() -> OAuthClient {
        OAuthClient {
            token_endpoint: "https://issuer.example/token".into(),
            client_id: "spa client".into(),
            scope: Some("openid offline_access".into()),
            extra_params: vec![("resource".into(), "https://api.example/a?b=c&d".into())],
        }
    }

    #[test]
    fn the_form_bodies_are_url_encoded() {
        assert_eq!(
            refresh_form(&client(), "r/t+1=="),
            "grant_type=refresh_token&refresh_token=r%2Ft%2B1%3D%3D&client_id=spa+client\
             &scope=openid+offline_access&resource=https%3A%2F%2Fapi.example%2Fa%3Fb%3Dc%26d"
        );
        assert_eq!(
            revocation_form(Some("c"), "r/t", "refresh_token"),
            "token=r%2Ft&token_type_hint=refresh_token&client_id=c"
        );
    }

    #[test]
    fn a_token_response_gives_a_token_set() {
        let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt2","scope":"x","id_token":null}"#;
        assert_eq!(
            classify_answer(200, body, None),
            Answer::Tokens(TokenSet {
                access_token: "at".into(),
                refresh_token: Some("rt2".into()),
                id_token: None,
                expires_in: Some(300.0),
                token_type: TokenType::Bearer,
            })
        );
    }

    #[test]
    fn failures_are_classified() {
        let grant = r#"{"error":"invalid_grant","error_description":"reused"}"#;
        assert_eq!(classify_answer(400, grant, None), Answer::InvalidGrant);
        assert_eq!(
            classify_answer(401, r#"{"error":"invalid_grant"}"#, None),
            Answer::InvalidGrant
        );
        assert_eq!(classify_answer(403, grant, None), Answer::InvalidGrant);
        assert_eq!(classify_answer(403, "{}", None), Answer::Rejected);
        assert_eq!(
            classify_answer(400, r#"{"error":"use_dpop_nonce"}"#, None),
            Answer::UseDpopNonce
        );
        assert_eq!(
            classify_answer(400, r#"{"error":"invalid_dpop_proof"}"#, None),
            Answer::DpopProofRefused
        );
        assert_eq!(
            classify_answer(500, "oops", None),
            Answer::Retry {
                retry_after_ms: None
            }
        );
        assert_eq!(
            classify_answer(429, "", Some(2000.0)),
            Answer::Retry {
                retry_after_ms: Some(2000.0)
            }
        );
        for refused in [
            (200, "<html>"),
            (200, r#"{"access_token":7}"#),
            (200, r#"{"token_type":"Bearer"}"#),
            (200, r#"{"access_token":"a\r\nb"}"#),
            (200, r#"{"access_token":"a","expires_in":1e12}"#),
            (200, ""),
            (307, ""),
            (0, ""),
        ] {
            assert_eq!(
                classify_answer(refused.0, refused.1, None),
                Answer::Rejected,
                "{refused:?}"
            );
        }
    }

    #[test]
    fn only_invalid_grant_ends_the_session_and_settings_errors_are_config() {
        for code in [
            "invalid_client",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
            "invalid_request",
        ] {
            let body = ["{\"error\":\"", code, "\"}"].concat();
            for status in [400, 401, 403] {
                assert_eq!(
                    classify_answer(status, &body, None),
                    Answer::Config,
                    "{status} {code}"
                );
            }
            assert_eq!(
                classify_thrown(Some(code), None, Some(401.0)),
                Answer::Config
            );
            assert_eq!(classify_thrown(None, Some(code), None), Answer::Config);
        }
        // A wrong path or method: the URL is wrong, not the grant.
        assert_eq!(classify_answer(404, "Not Found", None), Answer::Config);
        assert_eq!(classify_answer(405, "", None), Answer::Config);
        assert_eq!(
            classify_answer(404, r#"{"error":"invalid_grant"}"#, None),
            Answer::Config
        );
        // A 400/401 that names nothing readable (a gateway, userinfo's 401) or something else.
        for body in [
            "",
            "<html>",
            "{}",
            r#"{"error":7}"#,
            r#"{"error":"invalid_token"}"#,
        ] {
            assert_eq!(classify_answer(401, body, None), Answer::Config, "{body}");
            assert_eq!(classify_answer(400, body, None), Answer::Config, "{body}");
        }
    }

    /// Found by the `token_response` fuzz target: a body that is not JSON, but would be inside
    /// `{"v":…}`, gave tokens.
    #[test]
    fn a_body_with_text_after_the_object_gives_no_tokens() {
        let body = r#"{"access_token":"at","expires_in":300},"x":{}"#;
        assert_eq!(classify_answer(200, body, None), Answer::Rejected);
        assert_eq!(
            classify_answer(403, r#""x","error":"invalid_grant""#, None),
            Answer::Rejected
        );
    }

    #[test]
    fn a_callbacks_errors_are_classified() {
        assert_eq!(
            classify_thrown(Some("invalid_grant"), None, None),
            Answer::InvalidGrant
        );
        assert_eq!(
            classify_thrown(None, Some("invalid_grant"), None),
            Answer::InvalidGrant
        );
        assert_eq!(
            classify_thrown(None, None, Some(401.0)),
            Answer::InvalidGrant
        );
        assert_eq!(
            classify_thrown(Some("server_error"), None, Some(503.0)),
            Answer::Retry {
                retry_after_ms: None
            }
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after_ms(Some(" 2 "), None, 0.0), Some(2000.0));
        assert_eq!(retry_after_ms(Some("86400"), None, 0.0), Some(86_400_000.0));
        assert_eq!(retry_after_ms(Some("0003"), None, 0.0), Some(3_000.0));
        assert_eq!(
            retry_after_ms(
                Some("Wed, 21 Oct 2015 07:28:00 GMT"),
                Some(10_000.0),
                4_000.0
            ),
            Some(6_000.0)
        );
        assert_eq!(retry_after_ms(Some("-1"), None, 0.0), None);
        assert_eq!(retry_after_ms(None, Some(5.0), 0.0), None);
    }

    #[test]
    fn a_retry_after_over_a_day_reads_as_a_day() {
        // Read as 10^12 s before: a hold of 30,000 years.
        for huge in [
            "86401",
            "3000000",
            "99999999999999999999",
            "100000000000000000000000000000000000000000000",
        ] {
            assert_eq!(
                retry_after_ms(Some(huge), None, 0.0),
                Some(MAX_RETRY_AFTER_MS),
                "{huge}"
            );
        }
        let years_ahead = 4_000_000_000_000.0;
        assert_eq!(
            retry_after_ms(
                Some("Fri, 01 Jan 2100 00:00:00 GMT"),
                Some(years_ahead),
                0.0
            ),
            Some(MAX_RETRY_AFTER_MS)
        );
    }
}
