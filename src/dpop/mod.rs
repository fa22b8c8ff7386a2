//! DPoP (RFC 9449): the proof JWT's header and payload, built and checked here, and the
//! bookkeeping around proofs — the servers' nonces, and whether a 401 asks for one.
//!
//! The signature is made elsewhere: WebCrypto's ECDSA with P-256 and SHA-256 signs the
//! [`signing_input`] with a non-extractable key and returns the 64-byte `r ‖ s` that JWS
//! ES256 wants, which [`compact`] appends. Only the public key ever comes here.
//!
//! One concern per file: [`PublicKeyJwk`] and thumbprints (`jwk.rs`), the proof itself
//! (`proof.rs`), the servers' nonces (`nonces.rs`), the `WWW-Authenticate` challenge parser
//! (`challenge.rs`), and the grammar they share (`syntax.rs`).

mod challenge;
mod jwk;
mod nonces;
mod proof;
mod syntax;

pub use challenge::asks_for_nonce;
pub use jwk::{jwk_thumbprint, PublicKeyJwk};
pub use nonces::{Nonces, MAX_NONCE_LEN, MAX_NONCE_ORIGINS};
pub(crate) use proof::is_token;
pub use proof::{ath, compact, signing_input, ProofClaims};

/// Why a DPoP structure was not built or not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DpopError {
    /// The JWK text is not a JSON object.
    JwkJson,
    /// The JWK holds a private key (`d`): it must never be serialised, let alone sent.
    PrivateKey,
    /// The JWK's `kty` is not `EC`.
    KeyType,
    /// The JWK's `crv` is not `P-256`.
    Curve,
    /// `x` or `y` is missing, not base64url, or not 32 bytes.
    Coordinate,
    /// `htm` is not an HTTP method (an RFC 9110 token).
    Method,
    /// `htu` is not an `http(s)` URI without query and fragment.
    TargetUri,
    /// `jti` is empty.
    ProofId,
    /// The nonce is empty or has characters outside NQCHAR.
    Nonce,
    /// `ath` is not the base64url of a SHA-256 digest (43 characters).
    AccessTokenHash,
    /// The signing input is not two base64url segments joined by a dot.
    SigningInput,
    /// The signature is not 64 bytes (`r ‖ s` of ES256).
    SignatureLength,
}

impl DpopError {
    /// A sentence for developers; it never contains any of the input.
    pub fn message(self) -> &'static str {
        match self {
            DpopError::JwkJson => "the public key is not a JWK JSON object",
            DpopError::PrivateKey => "the JWK contains a private key (\"d\")",
            DpopError::KeyType => "the JWK's kty is not \"EC\"",
            DpopError::Curve => "the JWK's crv is not \"P-256\"",
            DpopError::Coordinate => "the JWK's x or y is not the base64url of 32 bytes",
            DpopError::Method => "the HTTP method is not a valid token",
            DpopError::TargetUri => {
                "the target URI is not an http(s) URI without query and fragment"
            }
            DpopError::ProofId => "the proof's jti is empty",
            DpopError::Nonce => "the DPoP nonce is empty or has characters outside NQCHAR",
            DpopError::AccessTokenHash => "ath is not a base64url SHA-256 digest",
            DpopError::SigningInput => "the signing input is not two base64url segments",
            DpopError::SignatureLength => "an ES256 signature is 64 bytes (r || s)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_no_input() {
        for e in [
            DpopError::JwkJson,
            DpopError::PrivateKey,
            DpopError::KeyType,
            DpopError::Curve,
            DpopError::Coordinate,
            DpopError::Method,
            DpopError::TargetUri,
            DpopError::ProofId,
            DpopError::Nonce,
            DpopError::AccessTokenHash,
            DpopError::SigningInput,
            DpopError::SignatureLength,
        ] {
            assert!(!e.message().is_empty(), "{e:?}");
        }
    }
}
