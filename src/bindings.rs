//! The wasm boundary. The JavaScript facade (`js/core.js`) wraps these exports into the
//! public API; nothing here is meant to be called by users directly.
//!
//! Decoding crosses the boundary with numbers only: the facade writes the token's bytes into
//! [`input_buffer`] with `TextEncoder.encodeInto`, calls [`decode_input`], and reads the
//! decoded JSON straight out of wasm memory. That avoids wasm-bindgen's per-character string
//! copy, which would otherwise cost more than the decoding itself.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::claims::TimeClaims;
use crate::error::TokenError;
use crate::jwt::Decoder;

#[derive(Default)]
struct DecodeState {
    input: Vec<u8>,
    decoder: Decoder,
    claims: TimeClaims,
}

thread_local! {
    static STATE: RefCell<DecodeState> = RefCell::new(DecodeState::default());
}

/// Makes room for `len` bytes of input and returns where to write them.
#[wasm_bindgen(js_name = inputBuffer)]
pub fn input_buffer(len: usize) -> usize {
    STATE.with_borrow_mut(|s| {
        if s.input.len() < len {
            s.input.resize(len, 0);
        }
        s.input.as_mut_ptr() as usize
    })
}

/// Decodes the first `len` bytes of the input buffer. Returns 0, or a negative error
/// (see [`TokenError::to_wire`]). On success the header, payload and claims getters
/// describe this token until the next call.
#[wasm_bindgen(js_name = decodeInput)]
pub fn decode_input(len: usize) -> i32 {
    STATE.with_borrow_mut(|s| {
        let DecodeState {
            input,
            decoder,
            claims,
        } = s;
        let Some(token) = input.get(..len) else {
            return TokenError::Malformed.to_wire();
        };
        match decoder.decode(token) {
            Ok(c) => {
                *claims = c;
                0
            }
            Err(e) => e.to_wire(),
        }
    })
}

/// Where the decoded header JSON starts in wasm memory.
#[wasm_bindgen(js_name = headerPtr)]
pub fn header_ptr() -> usize {
    STATE.with_borrow(|s| s.decoder.header_json().as_ptr() as usize)
}

/// The decoded header's length in bytes.
#[wasm_bindgen(js_name = headerLen)]
pub fn header_len() -> usize {
    STATE.with_borrow(|s| s.decoder.header_json().len())
}

/// Where the decoded payload JSON starts in wasm memory.
#[wasm_bindgen(js_name = payloadPtr)]
pub fn payload_ptr() -> usize {
    STATE.with_borrow(|s| s.decoder.payload_json().as_ptr() as usize)
}

/// The decoded payload's length in bytes.
#[wasm_bindgen(js_name = payloadLen)]
pub fn payload_len() -> usize {
    STATE.with_borrow(|s| s.decoder.payload_json().len())
}

/// `exp` of the last decoded token, NaN when absent.
#[wasm_bindgen(js_name = lastExp)]
pub fn last_exp() -> f64 {
    STATE.with_borrow(|s| s.claims.exp.unwrap_or(f64::NAN))
}

/// Whether the last decoded token is expired at `now_ms` with `leeway_seconds`.
#[wasm_bindgen(js_name = lastIsExpired)]
pub fn last_is_expired(now_ms: f64, leeway_seconds: f64) -> bool {
    STATE.with_borrow(|s| s.claims.is_expired(now_ms, leeway_seconds))
}

/// Seconds until `exp` of the last decoded token at `now_ms`, NaN without `exp`.
#[wasm_bindgen(js_name = lastSecondsUntilExpiry)]
pub fn last_seconds_until_expiry(now_ms: f64) -> f64 {
    STATE.with_borrow(|s| s.claims.seconds_until_expiry(now_ms).unwrap_or(f64::NAN))
}

fn error_of(wire: i32) -> TokenError {
    TokenError::from_wire(wire).unwrap_or(TokenError::Malformed)
}

/// The stable code (`ERR_...`) of a negative status from [`decode_input`].
#[wasm_bindgen(js_name = errorCode)]
pub fn error_code(wire: i32) -> String {
    error_of(wire).code().to_owned()
}

/// The fixed message of a negative status from [`decode_input`].
#[wasm_bindgen(js_name = errorMessage)]
pub fn error_message(wire: i32) -> String {
    error_of(wire).message().to_owned()
}

/// The failing part (`header`, `payload`, `signature`), if any.
#[wasm_bindgen(js_name = errorPart)]
pub fn error_part(wire: i32) -> Option<String> {
    error_of(wire).part().map(|p| p.as_str().to_owned())
}

/// The claim with the wrong type (`exp`, `nbf`, `iat`), if any.
#[wasm_bindgen(js_name = errorClaim)]
pub fn error_claim(wire: i32) -> Option<String> {
    error_of(wire).claim().map(|c| c.as_str().to_owned())
}

// ---------------------------------------------------------------------------------------
// TokenKeeper. The facade (`js/keeper.js`) wraps this handle: it owns the listeners, builds
// event details, and turns errors into `TokenError`s through `make_error`.

use js_sys::Reflect;

use crate::error::KeeperError;
use crate::keeper::{KeeperConfig, TokenSet};
use crate::record::ClearReason;
use crate::store::StorageKind;
use crate::web::driver::{Driver, Host};

/// A field of a JS object: `Ok(None)` when absent (undefined or null), `Err` when present
/// with the wrong type. Read by hand rather than through serde: serde's error messages bring
/// float formatting into the module (tens of KB) for errors whose text we would not show.
fn field<T>(
    object: &JsValue,
    name: &str,
    read: impl Fn(&JsValue) -> Option<T>,
) -> Result<Option<T>, ()> {
    let value = Reflect::get(object, &JsValue::from_str(name)).map_err(|_| ())?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    read(&value).map(Some).ok_or(())
}

fn config_from(options: &JsValue) -> Result<KeeperConfig, KeeperError> {
    let defaults = KeeperConfig::default();
    if options.is_undefined() || options.is_null() {
        return Ok(defaults);
    }
    let bad = KeeperError::InvalidArgument;
    let string = |name| field(options, name, JsValue::as_string);
    let number = |name| field(options, name, JsValue::as_f64);
    let storage = match string("storage").map_err(|_| bad(STORAGE_SHAPE))? {
        None => defaults.storage,
        Some(name) => StorageKind::from_name(&name).ok_or(bad(STORAGE_SHAPE))?,
    };
    let seconds_to_ms = |name, what| {
        number(name)
            .map(|v| v.map(|s| s * 1000.0))
            .map_err(|_| bad(what))
    };
    let config = KeeperConfig {
        namespace: string("namespace")
            .map_err(|_| bad("namespace must be a string"))?
            .unwrap_or(defaults.namespace),
        storage,
        cross_tab: field(options, "crossTab", JsValue::as_bool)
            .map_err(|_| bad("crossTab must be a boolean"))?
            .unwrap_or(defaults.cross_tab),
        idle_timeout_ms: seconds_to_ms(
            "idleTimeoutSeconds",
            "idleTimeoutSeconds must be a positive number",
        )?,
        max_session_ms: seconds_to_ms(
            "maxSessionSeconds",
            "maxSessionSeconds must be a positive number",
        )?,
        min_validity_s: number("minValiditySeconds")
            .map_err(|_| bad("minValiditySeconds must be a number >= 0"))?
            .unwrap_or(defaults.min_validity_s),
    };
    config.validate()?;
    Ok(config)
}

const STORAGE_SHAPE: &str = "storage must be \"session\", \"local\" or \"memory\"";
const TOKENS_SHAPE: &str =
    "tokens must be { accessToken: string, refreshToken?: string, idToken?: string, expiresIn?: number }";

/// Reads a token set; the snake_case names of a raw OAuth 2.0 token response work too.
fn tokens_from(tokens: &JsValue) -> Result<TokenSet, KeeperError> {
    fn either<T>(
        tokens: &JsValue,
        camel: &str,
        snake: &str,
        read: fn(&JsValue) -> Option<T>,
    ) -> Result<Option<T>, KeeperError> {
        let bad = |_| KeeperError::InvalidArgument(TOKENS_SHAPE);
        Ok(field(tokens, camel, read)
            .map_err(bad)?
            .or(field(tokens, snake, read).map_err(bad)?))
    }
    if !tokens.is_object() {
        return Err(KeeperError::InvalidArgument(TOKENS_SHAPE));
    }
    Ok(TokenSet {
        access_token: either(tokens, "accessToken", "access_token", JsValue::as_string)?
            .ok_or(KeeperError::InvalidArgument(TOKENS_SHAPE))?,
        refresh_token: either(tokens, "refreshToken", "refresh_token", JsValue::as_string)?,
        id_token: either(tokens, "idToken", "id_token", JsValue::as_string)?,
        expires_in: either(tokens, "expiresIn", "expires_in", JsValue::as_f64)?,
    })
}

/// The Rust half of a `TokenKeeper`.
#[wasm_bindgen]
pub struct KeeperHandle {
    driver: Driver,
    make_error: js_sys::Function,
}

#[wasm_bindgen]
impl KeeperHandle {
    /// `emit(type, a, b)` receives events; `make_error(code, message, part, claim)` builds
    /// the errors thrown; `clock()` is the injected clock, if any.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: JsValue,
        emit: js_sys::Function,
        make_error: js_sys::Function,
        clock: Option<js_sys::Function>,
    ) -> Result<KeeperHandle, JsValue> {
        let config = config_from(&options).map_err(|e| to_js_error(&make_error, e))?;
        let driver = Driver::start(config, Host { emit, clock });
        Ok(KeeperHandle { driver, make_error })
    }

    fn fail(&self, e: KeeperError) -> JsValue {
        to_js_error(&self.make_error, e)
    }

    /// Delivers the events of starting up (restore, storage faults).
    pub fn flush(&self) {
        self.driver.flush();
    }

    /// Stores new tokens.
    #[wasm_bindgen(js_name = setTokens)]
    pub fn set_tokens(&self, tokens: JsValue, remember: bool) -> Result<(), JsValue> {
        let tokens = tokens_from(&tokens).map_err(|e| self.fail(e))?;
        self.driver
            .run(|k, now| k.set_tokens(tokens, remember, now))
            .and_then(|r| r)
            .map_err(|e| self.fail(e))
    }

    /// The access token if it has at least `minValiditySeconds` left; counts as activity.
    #[wasm_bindgen(js_name = getAccessToken)]
    pub fn get_access_token(&self) -> Result<String, JsValue> {
        self.driver
            .run(|k, now| k.access_token_for_use(now))
            .and_then(|r| r)
            .map_err(|e| self.fail(e))
    }

    /// Signs out everywhere.
    pub fn clear(&self) -> Result<(), JsValue> {
        self.driver
            .run(|k, now| k.clear(ClearReason::Logout, now))
            .map_err(|e| self.fail(e))
    }

    /// User activity.
    pub fn touch(&self) -> Result<(), JsValue> {
        self.driver
            .run(|k, now| k.touch(now))
            .map_err(|e| self.fail(e))
    }

    /// Stops timers and listeners.
    pub fn dispose(&self) {
        self.driver.dispose();
    }

    /// The access token held, if any.
    #[wasm_bindgen(getter, js_name = accessToken)]
    pub fn access_token(&self) -> Option<String> {
        self.driver
            .read(|k| k.access_token().map(str::to_owned))
            .flatten()
    }

    /// When the access token expires (epoch seconds), if known.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.driver.read(|k| k.expires_at()).flatten()
    }

    /// "session", "local" or "memory": where the tokens really are.
    #[wasm_bindgen(getter, js_name = storageKind)]
    pub fn storage_kind(&self) -> String {
        self.driver
            .read(|k| k.storage_kind().as_str())
            .unwrap_or("memory")
            .to_owned()
    }
}

fn to_js_error(make_error: &js_sys::Function, e: KeeperError) -> JsValue {
    let token = e.token_error();
    let part = token
        .and_then(|t| t.part())
        .map(|p| JsValue::from_str(p.as_str()));
    let claim = token
        .and_then(|t| t.claim())
        .map(|c| JsValue::from_str(c.as_str()));
    let args = js_sys::Array::of4(
        &e.code().into(),
        &e.message().into(),
        &part.unwrap_or(JsValue::UNDEFINED),
        &claim.unwrap_or(JsValue::UNDEFINED),
    );
    make_error
        .apply(&JsValue::UNDEFINED, &args)
        .unwrap_or_else(|thrown| thrown)
}
