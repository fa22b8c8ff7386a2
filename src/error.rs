//! One error type with one stable code per failure.
//!
//! Tokens end up in logs and error trackers, so no variant carries any text taken
//! from the token: only which part failed and which claim had the wrong type.

use core::fmt;

/// The part of a compact JWS a decoding error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header (first segment).
    Header,
    /// The claims set (second segment).
    Payload,
    /// The signature (third segment).
    Signature,
}

impl Part {
    /// The name used on the JavaScript side (`err.part`).
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

/// A registered time claim whose type is checked (`exp`, `nbf`, `iat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeClaim {
    /// Expiration time.
    Exp,
    /// Not before.
    Nbf,
    /// Issued at.
    Iat,
}

impl TimeClaim {
    /// The claim's name as it appears in the payload.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeClaim::Exp => "exp",
            TimeClaim::Nbf => "nbf",
            TimeClaim::Iat => "iat",
        }
    }
}

/// Why a token could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a compact JWS: wrong number of segments, an empty header or payload, not a string.
    Malformed,
    /// Longer than [`crate::jwt::MAX_TOKEN_LEN`]: no issuer makes such tokens, and decoding
    /// one would keep that much wasm memory for good. Reported as `ERR_TOKEN_MALFORMED`.
    TooLong,
    /// A five-segment compact JWE: encrypted tokens cannot be read client-side.
    Encrypted,
    /// A segment is not base64url (bad character, impossible length, non-canonical bits).
    Base64(Part),
    /// A decoded segment is not valid UTF-8.
    Utf8(Part),
    /// A decoded segment is not valid JSON.
    Json(Part),
    /// A decoded segment is valid JSON but not an object.
    NotObject(Part),
    /// `exp`, `nbf` or `iat` is present but not a number.
    ClaimType(TimeClaim),
}

impl TokenError {
    /// The stable code, as seen by JavaScript in `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed | TokenError::TooLong => "ERR_TOKEN_MALFORMED",
            TokenError::Encrypted => "ERR_TOKEN_ENCRYPTED",
            TokenError::Base64(_) => "ERR_TOKEN_BASE64",
            TokenError::Utf8(_) => "ERR_TOKEN_UTF8",
            TokenError::Json(_) => "ERR_TOKEN_JSON",
            TokenError::NotObject(_) => "ERR_TOKEN_NOT_OBJECT",
            TokenError::ClaimType(_) => "ERR_CLAIM_TYPE",
        }
    }

    /// Which part failed, where that applies.
    pub fn part(&self) -> Option<Part> {
        match *self {
            TokenError::Base64(p)
            | TokenError::Utf8(p)
            | TokenError::Json(p)
            | TokenError::NotObject(p) => Some(p),
            TokenError::ClaimType(_) => Some(Part::Payload),
            TokenError::Malformed | TokenError::TooLong | TokenError::Encrypted => None,
        }
    }

    /// The claim with the wrong type, for [`TokenError::ClaimType`].
    pub fn claim(&self) -> Option<TimeClaim> {
        match *self {
            TokenError::ClaimType(c) => Some(c),
            _ => None,
        }
    }

    /// A compact integer form for the wasm boundary: `code index | part << 4 | claim << 8`.
    /// Always negative, so that it never collides with a length or a count.
    pub fn to_wire(self) -> i32 {
        let code = match self {
            TokenError::Malformed => 1,
            TokenError::Encrypted => 2,
            TokenError::Base64(_) => 3,
            TokenError::Utf8(_) => 4,
            TokenError::Json(_) => 5,
            TokenError::NotObject(_) => 6,
            TokenError::ClaimType(_) => 7,
            TokenError::TooLong => 8,
        };
        let part = match self.part() {
            None => 0,
            Some(Part::Header) => 1,
            Some(Part::Payload) => 2,
            Some(Part::Signature) => 3,
        };
        let claim = match self.claim() {
            None => 0,
            Some(TimeClaim::Exp) => 1,
            Some(TimeClaim::Nbf) => 2,
            Some(TimeClaim::Iat) => 3,
        };
        -(code | (part << 4) | (claim << 8))
    }

    /// The inverse of [`TokenError::to_wire`]; `None` for a value no error produces.
    pub fn from_wire(wire: i32) -> Option<TokenError> {
        let bits = wire.checked_neg()?;
        let part = match (bits >> 4) & 0xf {
            1 => Part::Header,
            2 => Part::Payload,
            3 => Part::Signature,
            _ => Part::Payload,
        };
        let claim = match (bits >> 8) & 0xf {
            1 => TimeClaim::Exp,
            2 => TimeClaim::Nbf,
            _ => TimeClaim::Iat,
        };
        Some(match bits & 0xf {
            1 => TokenError::Malformed,
            2 => TokenError::Encrypted,
            3 => TokenError::Base64(part),
            4 => TokenError::Utf8(part),
            5 => TokenError::Json(part),
            6 => TokenError::NotObject(part),
            7 => TokenError::ClaimType(claim),
            8 => TokenError::TooLong,
            _ => return None,
        })
    }
}

impl TokenError {
    /// A fixed, human-readable message. Static text only: it can never contain token text,
    /// and it keeps the formatting machinery out of the wasm module.
    pub fn message(&self) -> &'static str {
        use Part::*;
        match self {
            TokenError::Malformed => {
                "not a compact JWS: expected three dot-separated segments with a non-empty header and payload"
            }
            TokenError::TooLong => "the token is longer than 1 MiB, which no JWT is",
            TokenError::Encrypted => {
                "the token is an encrypted JWE (five segments) and cannot be decoded"
            }
            TokenError::Base64(Header) => "the header segment is not valid base64url",
            TokenError::Base64(Payload) => "the payload segment is not valid base64url",
            TokenError::Base64(Signature) => "the signature segment is not valid base64url",
            TokenError::Utf8(Header) => "the header segment is not valid UTF-8",
            TokenError::Utf8(_) => "the payload segment is not valid UTF-8",
            TokenError::Json(Header) => "the header segment is not valid JSON",
            TokenError::Json(_) => "the payload segment is not valid JSON",
            TokenError::NotObject(Header) => "the header segment is not a JSON object",
            TokenError::NotObject(_) => "the payload segment is not a JSON object",
            TokenError::ClaimType(TimeClaim::Exp) => "the \"exp\" claim must be a number",
            TokenError::ClaimType(TimeClaim::Nbf) => "the \"nbf\" claim must be a number",
            TokenError::ClaimType(TimeClaim::Iat) => "the \"iat\" claim must be a number",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TokenError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips_for_every_variant() {
        let all = crate::constants::token_errors();
        assert_eq!(all.len(), 3 + 3 * 4 + 3);
        for e in all {
            assert!(e.to_wire() < 0);
            assert_eq!(TokenError::from_wire(e.to_wire()), Some(e), "{e:?}");
        }
        assert_eq!(TokenError::from_wire(0), None);
        assert_eq!(TokenError::from_wire(i32::MIN), None);
    }
}

/// Why a keeper operation failed, or what went wrong in the background (`error` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeeperError {
    /// An option or argument has the wrong shape; the text says which.
    InvalidArgument(&'static str),
    /// The access token given to `setTokens` looks like a JWT but does not decode.
    Token(TokenError),
    /// Signed out: there is no token to hand out.
    NoToken,
    /// The access token has expired (or is about to) and cannot be refreshed.
    TokenExpired,
    /// The keeper was disposed.
    Disposed,
    /// `refresh()` without a `refresh` callback or `oauth` option.
    RefreshUnavailable,
    /// Refreshing failed after every retry (network, 5xx, 429); the tokens are kept.
    RefreshFailed,
    /// The token endpoint refused the request in a way retrying will not fix (403, a redirect,
    /// a malformed response); the tokens are kept.
    RefreshRejected,
    /// The token endpoint refused the app's configuration (`invalid_client`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, `invalid_request`, a
    /// 404 or 405): the tokens are kept, nobody is signed out, and it is not retried until
    /// `refresh()` or a reload, since retrying cannot fix the app's settings.
    RefreshConfig,
    /// A refresh is needed but no refresh token is held: nothing was sent.
    NoRefreshToken,
    /// The refresh token was refused (`invalid_grant`): signed out everywhere.
    InvalidGrant,
    /// Web storage does not exist here (Node, SSR); tokens are kept in memory.
    StorageUnavailable,
    /// Web storage access threw `SecurityError`; tokens are kept in memory.
    StorageBlocked,
    /// Web storage is full; tokens are kept in memory.
    StorageQuota,
    /// Web storage threw something else; tokens are kept in memory.
    StorageFailed,
    /// The stored record is not valid (truncated, edited, mistyped) and was ignored.
    RecordCorrupt,
    /// The value under the keeper's key was not written by tokenkeeper and was ignored.
    RecordForeign,
    /// The stored record has a newer format version and was ignored (left as it is).
    RecordVersion,
    /// `keeper.fetch` to a URL outside `allowedOrigins`: no token was sent.
    FetchNotAllowed,
    /// The token endpoint, or another tab's refresh, took longer than its timeout.
    RefreshTimeout,
    /// The token endpoint answered but its CORS headers do not allow this origin; not retried
    /// automatically (each retry would present a refresh token the server may have rotated).
    RefreshCors,
    /// `dpop: true`, but the server issued tokens that are not DPoP-bound.
    DpopNotBound,
    /// `dpop: true`, but this platform has no WebCrypto ECDSA P-256 to hold a key.
    DpopUnavailable,
    /// Revoking the refresh token at the server failed (network, timeout, a redirect, an
    /// answer other than 2xx); the local sign-out stands. An `error` event only.
    RevocationFailed,
}

impl KeeperError {
    /// The stable code, as seen by JavaScript in `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            KeeperError::InvalidArgument(_) => "ERR_INVALID_ARGUMENT",
            KeeperError::Token(e) => e.code(),
            KeeperError::NoToken => "ERR_NO_TOKEN",
            KeeperError::TokenExpired => "ERR_TOKEN_EXPIRED",
            KeeperError::Disposed => "ERR_DISPOSED",
            KeeperError::RefreshUnavailable => "ERR_REFRESH_UNAVAILABLE",
            KeeperError::RefreshFailed => "ERR_REFRESH_FAILED",
            KeeperError::RefreshRejected => "ERR_REFRESH_REJECTED",
            KeeperError::RefreshConfig => "ERR_REFRESH_CONFIG",
            KeeperError::NoRefreshToken => "ERR_NO_REFRESH_TOKEN",
            KeeperError::InvalidGrant => "ERR_INVALID_GRANT",
            KeeperError::StorageUnavailable => "ERR_STORAGE_UNAVAILABLE",
            KeeperError::StorageBlocked => "ERR_STORAGE_BLOCKED",
            KeeperError::StorageQuota => "ERR_STORAGE_QUOTA",
            KeeperError::StorageFailed => "ERR_STORAGE_FAILED",
            KeeperError::RecordCorrupt => "ERR_RECORD_CORRUPT",
            KeeperError::RecordForeign => "ERR_RECORD_FOREIGN",
            KeeperError::RecordVersion => "ERR_RECORD_VERSION",
            KeeperError::FetchNotAllowed => "ERR_FETCH_NOT_ALLOWED",
            KeeperError::RefreshTimeout => "ERR_REFRESH_TIMEOUT",
            KeeperError::RefreshCors => "ERR_REFRESH_CORS",
            KeeperError::DpopNotBound => "ERR_DPOP_NOT_BOUND",
            KeeperError::DpopUnavailable => "ERR_DPOP_UNAVAILABLE",
            KeeperError::RevocationFailed => "ERR_REVOCATION_FAILED",
        }
    }

    /// A fixed message; never contains token text.
    pub fn message(&self) -> &'static str {
        match self {
            KeeperError::InvalidArgument(text) => text,
            KeeperError::Token(e) => e.message(),
            KeeperError::NoToken => "signed out: there is no access token",
            KeeperError::TokenExpired => "the access token has expired and cannot be refreshed",
            KeeperError::Disposed => "this TokenKeeper was disposed",
            KeeperError::RefreshUnavailable => {
                "no refresh is configured: pass a refresh callback or oauth options"
            }
            KeeperError::RefreshFailed => {
                "refreshing the tokens failed (network error, timeout or a server error); they are kept"
            }
            KeeperError::RefreshRejected => {
                "the token endpoint rejected the refresh; the tokens are kept"
            }
            KeeperError::RefreshConfig => {
                "the token endpoint refused the app's settings (oauth.tokenEndpoint, clientId, scope or extraParams); the tokens are kept, nobody is signed out, and it is not retried until refresh() is called or the page reloads"
            }
            KeeperError::NoRefreshToken => {
                "no refresh token is held, so the tokens cannot be refreshed and nothing was sent: ask for the offline_access scope when signing in (some providers also need prompt=consent)"
            }
            KeeperError::InvalidGrant => {
                "the refresh token was refused (invalid_grant); signed out"
            }
            KeeperError::StorageUnavailable => {
                "web storage is not available here; tokens are kept in memory"
            }
            KeeperError::StorageBlocked => {
                "web storage is blocked (SecurityError); tokens are kept in memory"
            }
            KeeperError::StorageQuota => {
                "web storage is full (QuotaExceededError); tokens are kept in memory"
            }
            KeeperError::StorageFailed => "web storage failed; tokens are kept in memory",
            KeeperError::RecordCorrupt => "a corrupt stored record was ignored",
            KeeperError::RecordForeign => "a stored value not written by tokenkeeper was ignored",
            KeeperError::RecordVersion => {
                "a stored record of a newer format version was ignored and left in place"
            }
            KeeperError::FetchNotAllowed => {
                "keeper.fetch refused to send a token to a URL outside allowedOrigins"
            }
            KeeperError::RefreshTimeout => {
                "the token endpoint or another tab's refresh took too long; the tokens are kept"
            }
            KeeperError::RefreshCors => {
                "the token endpoint does not allow this origin (CORS), or the URL is wrong; not retried until refresh() is called or the page reloads"
            }
            KeeperError::DpopNotBound => {
                "dpop is on, but the server issued tokens that are not DPoP-bound"
            }
            KeeperError::DpopUnavailable => {
                "dpop is on, but WebCrypto ECDSA P-256 is not available here"
            }
            KeeperError::RevocationFailed => {
                "revoking the refresh token at the server failed; signed out here anyway"
            }
        }
    }

    /// The part and claim of a decoding error, where that applies.
    pub fn token_error(&self) -> Option<TokenError> {
        match self {
            KeeperError::Token(e) => Some(*e),
            _ => None,
        }
    }
}

impl KeeperError {
    /// Every error the keeper can report except `InvalidArgument` and `Token` (whose texts
    /// vary): the list the JavaScript code union is generated from.
    pub const FIXED: [KeeperError; 24] = [
        KeeperError::NoToken,
        KeeperError::TokenExpired,
        KeeperError::Disposed,
        KeeperError::RefreshUnavailable,
        KeeperError::RefreshFailed,
        KeeperError::RefreshRejected,
        KeeperError::RefreshConfig,
        KeeperError::NoRefreshToken,
        KeeperError::InvalidGrant,
        KeeperError::StorageUnavailable,
        KeeperError::StorageBlocked,
        KeeperError::StorageQuota,
        KeeperError::StorageFailed,
        KeeperError::RecordCorrupt,
        KeeperError::RecordForeign,
        KeeperError::RecordVersion,
        KeeperError::FetchNotAllowed,
        KeeperError::RefreshTimeout,
        KeeperError::RefreshCors,
        KeeperError::DpopNotBound,
        KeeperError::DpopUnavailable,
        KeeperError::RevocationFailed,
        KeeperError::InvalidArgument(""),
        KeeperError::Token(TokenError::Malformed),
    ];
}

impl fmt::Display for KeeperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for KeeperError {}
