//! The facts behind a refresh error (API §6): which endpoint, what it answered, and the
//! server's own words — what a developer needs to tell a wrong `clientId` from a lost session.
//! Pure. The server's text reaches error messages, logs and error trackers, so it is kept only
//! when it is short printable ASCII and holds no text of a token this keeper holds.

use crate::error::KeeperError;
use crate::json::value::{self, Value};
use crate::record::push_u64;

/// The most of the server's `error_description` kept, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// The most of the server's `error` code kept (RFC 6749 codes are short words).
pub const MAX_ERROR_CHARS: usize = 64;
/// A server text holding this many characters of a held token in a row is dropped: long
/// enough that ordinary words never match, short enough that no usable part of a token leaks.
pub const TOKEN_FRAGMENT_CHARS: usize = 16;

/// What became of the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The endpoint answered with this status (0: a redirect, which is never followed).
    Answered(u16),
    /// The request failed at the network level.
    NetworkError,
    /// No answer within `requestTimeoutMs`.
    TimedOut,
    /// Not known (another tab's failure, a callback's own error).
    Unknown,
}

/// The facts behind one refresh error, as far as they are known. Never token text.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshDetail {
    /// The token endpoint, without query or fragment; `None` with a refresh callback.
    pub endpoint: Option<String>,
    /// What became of the request.
    pub cause: Cause,
    /// The OAuth `error` code the server (or the app's callback) gave, sanitised.
    pub error: Option<String>,
    /// The server's `error_description`, sanitised.
    pub description: Option<String>,
}

impl RefreshDetail {
    /// Facts about `endpoint` (a URL; its query and fragment are dropped) with no answer.
    pub fn at(endpoint: Option<&str>, cause: Cause) -> RefreshDetail {
        RefreshDetail {
            endpoint: endpoint.map(without_query),
            cause,
            error: None,
            description: None,
        }
    }

    /// Facts about an answer of the token endpoint: its status and, from a JSON body, the
    /// server's `error` and `error_description` unless they hold text of a `held` token.
    pub fn answered(endpoint: &str, status: u16, body: &str, held: &[&str]) -> RefreshDetail {
        let json = if (200..300).contains(&status) {
            None // a success body holds tokens, never words meant for the developer
        } else {
            value::parse(body)
        };
        let text = |name: &str| {
            json.as_ref()
                .and_then(|v| v.get(name))
                .and_then(Value::as_str)
        };
        RefreshDetail {
            endpoint: Some(without_query(endpoint)),
            cause: Cause::Answered(status),
            error: text("error").and_then(|t| server_text(t, MAX_ERROR_CHARS, held)),
            description: text("error_description")
                .and_then(|t| server_text(t, MAX_DESCRIPTION_CHARS, held)),
        }
    }

    /// The HTTP status, when the endpoint answered.
    pub fn status(&self) -> Option<u16> {
        match self.cause {
            Cause::Answered(status) => Some(status),
            _ => None,
        }
    }

    /// The message for `error` with these facts: what happened first, then what it means
    /// ("the token endpoint https://id.example/token answered 401 invalid_client: client
    /// authentication failed; the token endpoint refused the app's settings ...").
    pub fn message(&self, error: KeeperError) -> String {
        let base = error.message();
        let mut m = String::with_capacity(96 + base.len());
        let subject = |m: &mut String| {
            m.push_str(if self.endpoint.is_some() {
                "the token endpoint "
            } else {
                "the refresh callback "
            });
            if let Some(endpoint) = &self.endpoint {
                m.push_str(endpoint);
                m.push(' ');
            }
        };
        if error == KeeperError::RefreshCors {
            // A browser cannot tell a CORS refusal from a wrong URL without CORS headers.
            m.push_str("the token endpoint ");
            if let Some(endpoint) = &self.endpoint {
                m.push_str(endpoint);
                m.push(' ');
            }
            m.push_str(base.strip_prefix("the token endpoint ").unwrap_or(base));
            return m;
        }
        match self.cause {
            Cause::Answered(0) => {
                subject(&mut m);
                m.push_str("answered with a redirect, which is never followed");
            }
            Cause::Answered(status) => {
                subject(&mut m);
                m.push_str(if self.endpoint.is_some() {
                    "answered "
                } else {
                    "threw status "
                });
                push_u64(&mut m, u64::from(status));
            }
            Cause::NetworkError => {
                subject(&mut m);
                m.push_str("could not be reached (network error)");
            }
            Cause::TimedOut => {
                subject(&mut m);
                m.push_str("did not answer in time (timeout)");
            }
            Cause::Unknown if self.error.is_some() => {
                subject(&mut m);
                m.push_str("threw");
            }
            Cause::Unknown => return base.to_owned(),
        }
        if let Some(code) = &self.error {
            m.push(' ');
            m.push_str(code);
        }
        if let Some(description) = &self.description {
            m.push_str(": ");
            m.push_str(description);
        }
        m.push_str("; ");
        m.push_str(base);
        m
    }
}

/// Whether `error` is about a refresh, so that the facts of the last attempt explain it.
pub fn explains(error: KeeperError) -> bool {
    matches!(
        error,
        KeeperError::RefreshFailed
            | KeeperError::RefreshRejected
            | KeeperError::RefreshConfig
            | KeeperError::InvalidGrant
            | KeeperError::RefreshCors
            | KeeperError::RefreshTimeout
    )
}

/// `url` without its query and fragment (where a client may carry secrets).
pub fn without_query(url: &str) -> String {
    let end = url
        .bytes()
        .position(|b| b == b'?' || b == b'#')
        .unwrap_or(url.len());
    url[..end].to_owned()
}

/// A text from the server as it may be shown: printable ASCII (RFC 6749 §5.2 allows no
/// other), cut to `max_chars`, and `None` when empty, when it has any other character, or when
/// it holds a held token or [`TOKEN_FRAGMENT_CHARS`] characters of one in a row (a server
/// echoing the request must not put the refresh token into an error tracker).
pub fn server_text(text: &str, max_chars: usize, held: &[&str]) -> Option<String> {
    if text.is_empty() || !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return None;
    }
    // Checked whole, before cutting: the cut must not hide a fragment that straddles it.
    if holds_token_text(text, held) {
        return None;
    }
    Some(text[..text.len().min(max_chars)].to_owned())
}

/// Whether `text` contains a held token whole, or [`TOKEN_FRAGMENT_CHARS`] characters of one
/// in a row. Every longer run contains such a window, so windows of `text` suffice.
fn holds_token_text(text: &str, held: &[&str]) -> bool {
    let held = || held.iter().filter(|t| !t.is_empty()).map(|t| t.as_bytes());
    if held().any(|t| has_run(text.as_bytes(), t)) {
        return true;
    }
    let bytes = text.as_bytes();
    if bytes.len() < TOKEN_FRAGMENT_CHARS {
        return false;
    }
    // ASCII only (checked by the caller), so every window is a str.
    bytes
        .windows(TOKEN_FRAGMENT_CHARS)
        .any(|window| held().any(|t| has_run(t, window)))
}

/// Whether `run` occurs in `text` (a plain scan: `str::contains` brings a substring searcher
/// of several KB into the module for texts of a few hundred bytes).
fn has_run(text: &[u8], run: &[u8]) -> bool {
    run.len() <= text.len() && text.windows(run.len()).any(|w| w == run)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFRESH: &str = "rt-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
    const ACCESS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

    #[test]
    fn the_servers_words_are_kept_when_they_are_plain_ascii() {
        let d = RefreshDetail::answered(
            "https://id.example.com/oauth/token?tenant=x#frag",
            401,
            r#"{"error":"invalid_client","error_description":"client authentication failed"}"#,
            &[ACCESS, REFRESH],
        );
        assert_eq!(
            d,
            RefreshDetail {
                endpoint: Some("https://id.example.com/oauth/token".into()),
                cause: Cause::Answered(401),
                error: Some("invalid_client".into()),
                description: Some("client authentication failed".into()),
            }
        );
        assert!(d
            .message(KeeperError::RefreshConfig)
            .starts_with("the token endpoint https://id.example.com/oauth/token answered 401 invalid_client: client authentication failed; "));
    }

    #[test]
    fn a_description_with_token_text_is_dropped() {
        let echo = |description: &str| {
            let body = [
                r#"{"error":"invalid_grant","error_description":""#,
                description,
                r#""}"#,
            ]
            .concat();
            RefreshDetail::answered(
                "https://id.example/t",
                400,
                &body,
                &[ACCESS, REFRESH, "short"],
            )
            .description
        };
        assert_eq!(echo(&["grant ", REFRESH, " is revoked"].concat()), None);
        // Sixteen characters of a token in a row are enough; fifteen are ordinary text.
        assert_eq!(echo(&["token ", &REFRESH[5..21], " reused"].concat()), None);
        assert_eq!(echo(&["token ", &ACCESS[20..36]].concat()), None);
        let fifteen = ["token ", &REFRESH[5..20], " reused"].concat();
        assert_eq!(echo(&fifteen), Some(fifteen.clone()));
        // A token shorter than the window still counts whole.
        assert_eq!(echo("the token short was refused"), None);
        // A fragment straddling the length cap is still found.
        let long = ["x".repeat(190), REFRESH.to_owned()].concat();
        assert_eq!(echo(&long), None);
        // And the code is held to the same rule.
        let body = [r#"{"error":""#, REFRESH, r#""}"#].concat();
        assert_eq!(
            RefreshDetail::answered("https://id.example/t", 400, &body, &[REFRESH]).error,
            None
        );
    }

    #[test]
    fn a_description_that_is_not_printable_ascii_is_dropped_and_a_long_one_is_cut() {
        for bad in ["caf\u{e9}", "line\nbreak", "tab\there", "\u{7f}", ""] {
            assert_eq!(server_text(bad, 200, &[]), None, "{bad:?}");
        }
        let long = "a".repeat(500);
        assert_eq!(server_text(&long, 200, &[]).map(|t| t.len()), Some(200));
        // Escaped in JSON, decoded before the check.
        let d = RefreshDetail::answered(
            "https://id.example/t",
            400,
            r#"{"error":"invalid_request","error_description":"caf\u00e9"}"#,
            &[],
        );
        assert_eq!(d.description, None);
        assert_eq!(d.error.as_deref(), Some("invalid_request"));
    }

    #[test]
    fn a_success_body_is_never_read_for_words() {
        let d = RefreshDetail::answered(
            "https://id.example/t",
            200,
            r#"{"error":"x","error_description":"y"}"#,
            &[],
        );
        assert_eq!((d.error, d.description), (None, None));
    }

    #[test]
    fn messages_say_the_endpoint_and_what_happened() {
        let at = |cause| RefreshDetail::at(Some("https://id.example/token?x=1"), cause);
        assert_eq!(
            at(Cause::Unknown).message(KeeperError::RefreshCors),
            "the token endpoint https://id.example/token does not allow this origin (CORS), or \
             the URL is wrong; not retried until refresh() is called or the page reloads"
        );
        assert!(at(Cause::NetworkError)
            .message(KeeperError::RefreshFailed)
            .starts_with("the token endpoint https://id.example/token could not be reached (network error); refreshing"));
        assert!(at(Cause::TimedOut)
            .message(KeeperError::RefreshTimeout)
            .contains("did not answer in time (timeout)"));
        assert!(at(Cause::Answered(503))
            .message(KeeperError::RefreshFailed)
            .starts_with("the token endpoint https://id.example/token answered 503; "));
        assert!(at(Cause::Answered(404))
            .message(KeeperError::RefreshConfig)
            .starts_with("the token endpoint https://id.example/token answered 404; "));
        assert_eq!(
            RefreshDetail::at(None, Cause::Unknown).message(KeeperError::RefreshFailed),
            KeeperError::RefreshFailed.message()
        );
    }
}
