//! The values Rust and the JavaScript facade must agree on, written once, here: limits, the
//! wire codes of decoding errors, the markers the facade uses for values JSON cannot carry,
//! and every error code. `js/generated/constants.js` (and its `.d.ts`) is generated from this
//! file; a host test fails when the committed copy is stale, and
//! `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants` rewrites it.

use crate::error::{Part, TimeClaim, TokenError};

/// The longest token accepted, in bytes (characters on the JavaScript side, which checks
/// before copying anything into wasm memory).
pub const MAX_TOKEN_LENGTH: usize = crate::jwt::MAX_TOKEN_LEN;

/// The largest token-endpoint answer read; a longer one is refused unread.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// What JavaScript puts in place of values JSON cannot carry (see `tokens::marker`).
pub const MARKERS: [(&str, &str); 5] = [
    ("FUNCTION", "\u{0}function"),
    ("NON_FINITE", "\u{0}non-finite"),
    ("WRONG_TYPE", "\u{0}wrong-type"),
    ("TOO_LONG", "\u{0}too-long"),
    ("NOT_A_URL", "\u{0}not-a-url"),
];

/// Codes and messages of errors that only the JavaScript side can meet.
pub const JS_ERRORS: [(&str, &str, &str); 3] = [
    (
        "NOT_INITIALIZED",
        "ERR_NOT_INITIALIZED",
        "call and await init() before using tokenkeeper",
    ),
    (
        "INIT_FAILED",
        "ERR_INIT_FAILED",
        "the tokenkeeper wasm module could not be loaded",
    ),
    (
        "ISOLATION_UNAVAILABLE",
        "ERR_ISOLATION_UNAVAILABLE",
        "isolation \"worker\" needs SharedWorker or Worker, and neither can run here; use isolation \"page\"",
    ),
];

/// Every decoding error, in wire order.
pub fn token_errors() -> Vec<TokenError> {
    let mut all = vec![
        TokenError::Malformed,
        TokenError::TooLong,
        TokenError::Encrypted,
    ];
    for p in [Part::Header, Part::Payload, Part::Signature] {
        all.extend([
            TokenError::Base64(p),
            TokenError::Utf8(p),
            TokenError::Json(p),
            TokenError::NotObject(p),
        ]);
    }
    all.extend([TimeClaim::Exp, TimeClaim::Nbf, TimeClaim::Iat].map(TokenError::ClaimType));
    all
}

/// Every error code the package can throw or report, sorted.
pub fn error_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = token_errors().iter().map(|e| e.code()).collect();
    codes.extend(crate::error::KeeperError::FIXED.iter().map(|e| e.code()));
    codes.extend(JS_ERRORS.iter().map(|e| e.1));
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// `js/generated/constants.js`.
#[cfg(not(target_arch = "wasm32"))]
pub fn javascript() -> String {
    let q = |s: &str| {
        let mut out = String::new();
        crate::json::write_string(&mut out, s);
        out
    };
    let mut js = String::from(
        "// Generated from src/constants.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants`.\n\
         // Do not edit: a host test fails when this file and the Rust source disagree.\n\n",
    );
    js += &format!("export const MAX_TOKEN_LENGTH = {MAX_TOKEN_LENGTH};\n");
    js += &format!("export const MAX_RESPONSE_BYTES = {MAX_RESPONSE_BYTES};\n\n");
    js += "/** Stand-ins for values JSON cannot carry (see src/tokens.rs). */\nexport const MARKER = /* @__PURE__ */ Object.freeze({\n";
    for (name, value) in MARKERS {
        js += &format!("  {name}: {},\n", q(value));
    }
    js += "});\n\n/** Errors only the JavaScript side meets: [code, message]. */\nexport const JS_ERROR = /* @__PURE__ */ Object.freeze({\n";
    for (name, code, message) in JS_ERRORS {
        js += &format!("  {name}: [{}, {}],\n", q(code), q(message));
    }
    js += "});\n\n/** Messages of the keeper's errors, by code. */\nexport const KEEPER_ERROR = /* @__PURE__ */ Object.freeze({\n";
    for e in crate::error::KeeperError::FIXED {
        if matches!(
            e,
            crate::error::KeeperError::InvalidArgument(_) | crate::error::KeeperError::Token(_)
        ) {
            continue;
        }
        js += &format!("  {}: {},\n", e.code(), q(e.message()));
    }
    js += "});\n\n/** Decoding errors by wire code (negative): [code, message, part, claim]. */\nexport const TOKEN_ERROR = /* @__PURE__ */ new Map([\n";
    for e in token_errors() {
        let part = e.part().map_or("undefined".to_owned(), |p| q(p.as_str()));
        let claim = e.claim().map_or("undefined".to_owned(), |c| q(c.as_str()));
        js += &format!(
            "  [{}, [{}, {}, {part}, {claim}]],\n",
            e.to_wire(),
            q(e.code()),
            q(e.message())
        );
    }
    js += "]);\n\n/** Wire codes the facade produces itself. */\nexport const WIRE = /* @__PURE__ */ Object.freeze({\n";
    for (name, e) in [
        ("TOO_LONG", TokenError::TooLong),
        ("HEADER_JSON", TokenError::Json(Part::Header)),
        ("PAYLOAD_JSON", TokenError::Json(Part::Payload)),
        ("PAYLOAD_NOT_OBJECT", TokenError::NotObject(Part::Payload)),
        ("CLAIM_EXP", TokenError::ClaimType(TimeClaim::Exp)),
        ("CLAIM_NBF", TokenError::ClaimType(TimeClaim::Nbf)),
        ("CLAIM_IAT", TokenError::ClaimType(TimeClaim::Iat)),
    ] {
        js += &format!("  {name}: {},\n", e.to_wire());
    }
    js += "});\n";
    js
}

/// `js/generated/constants.d.ts`.
#[cfg(not(target_arch = "wasm32"))]
pub fn typescript() -> String {
    let mut ts = String::from(
        "// Generated from src/constants.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants`.\n\n\
         /** Every `code` a TokenError can have. */\nexport type TokenErrorCode =\n",
    );
    for code in error_codes() {
        ts += &format!("  | \"{code}\"\n");
    }
    ts += ";\nexport declare const MAX_TOKEN_LENGTH: number;\nexport declare const MAX_RESPONSE_BYTES: number;\n\
           export declare const MARKER: Readonly<Record<\"FUNCTION\" | \"NON_FINITE\" | \"WRONG_TYPE\" | \"TOO_LONG\" | \"NOT_A_URL\", string>>;\n\
           export declare const JS_ERROR: Readonly<Record<\"NOT_INITIALIZED\" | \"INIT_FAILED\" | \"ISOLATION_UNAVAILABLE\", readonly [TokenErrorCode, string]>>;\n\
           export declare const TOKEN_ERROR: ReadonlyMap<number, readonly [TokenErrorCode, string, string | undefined, string | undefined]>;\n\
           export declare const WIRE: Readonly<Record<string, number>>;\n\
           export declare const KEEPER_ERROR: Readonly<Record<string, string>>;\n";
    ts
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn check(path: &str, generated: String) {
        let full = [env!("CARGO_MANIFEST_DIR"), "/", path].concat();
        if std::env::var_os("TOKENKEEPER_WRITE_GENERATED").is_some() {
            std::fs::create_dir_all(std::path::Path::new(&full).parent().unwrap()).unwrap();
            std::fs::write(&full, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&full).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is stale: run TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib constants"
        );
    }

    #[test]
    fn the_generated_javascript_is_up_to_date() {
        check("js/generated/constants.js", javascript());
        check("js/generated/constants.d.ts", typescript());
    }

    #[test]
    fn the_markers_are_the_ones_the_keeper_reads() {
        #[cfg(feature = "keeper")]
        {
            use crate::tokens::marker;
            assert_eq!(
                MARKERS.map(|m| m.1),
                [
                    marker::FUNCTION,
                    marker::NON_FINITE,
                    marker::WRONG_TYPE,
                    marker::TOO_LONG,
                    marker::NOT_A_URL
                ]
            );
        }
    }

    #[test]
    fn every_code_is_listed_once() {
        let codes = error_codes();
        assert!(codes.contains(&"ERR_FETCH_NOT_ALLOWED"));
        assert!(codes.contains(&"ERR_TOKEN_MALFORMED"));
        assert!(codes.contains(&"ERR_NOT_INITIALIZED"));
        assert!(!codes.contains(&""));
    }
}
