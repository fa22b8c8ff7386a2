//! The wasm boundary. The JavaScript facade (`js/core.js`) wraps these exports into the
//! public API; nothing here is meant to be called by users directly.
//!
//! Decoding crosses the boundary with numbers only: the facade writes the token's bytes into
//! [`input_buffer`] with `TextEncoder.encodeInto`, calls [`decode_input`], and reads the
//! decoded JSON straight out of wasm memory. That avoids wasm-bindgen's per-character string
//! copy, which would otherwise cost more than the decoding itself. Where the platform decodes
//! base64 natively, the facade writes the decoded payload (and the header and signature as
//! text) instead and calls [`decode_with_payload`]: every other check still happens here.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::claims::TimeClaims;
use crate::error::TokenError;
use crate::jwt::Decoder;

/// Where a decoded JSON text lies in wasm memory.
#[derive(Default, Clone, Copy)]
struct Span {
    ptr: usize,
    len: usize,
}

impl Span {
    fn of(bytes: &[u8]) -> Self {
        Self {
            ptr: bytes.as_ptr() as usize,
            len: bytes.len(),
        }
    }
}

#[derive(Default)]
struct DecodeState {
    input: Vec<u8>,
    decoder: Decoder,
    claims: TimeClaims,
    header: Span,
    payload: Span,
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

/// Runs `check` on the first `len` bytes of input, turning the outcome into a status: 0, or a
/// negative error (see [`TokenError::to_wire`]).
fn with_input(
    len: usize,
    check: impl FnOnce(&mut DecodeState, usize) -> Result<(), TokenError>,
) -> i32 {
    STATE.with_borrow_mut(|s| {
        if len > s.input.len() {
            return TokenError::Malformed.to_wire();
        }
        match check(s, len) {
            Ok(()) => 0,
            Err(e) => e.to_wire(),
        }
    })
}

/// Decodes the token in the first `len` bytes of the input buffer. On success the header,
/// payload and claims getters describe this token until the next call.
#[wasm_bindgen(js_name = decodeInput)]
pub fn decode_input(len: usize) -> i32 {
    with_input(len, |s, len| {
        s.claims = s.decoder.decode(&s.input[..len])?;
        s.header = Span::of(s.decoder.header_json());
        s.payload = Span::of(s.decoder.payload_json());
        Ok(())
    })
}

/// Like [`decode_input`], but leaves the payload's JSON checks to the caller's `JSON.parse`
/// (the facade checks the object and the claim types after parsing).
#[wasm_bindgen(js_name = decodeInputForParsing)]
pub fn decode_input_for_parsing(len: usize) -> i32 {
    with_input(len, |s, len| {
        s.decoder.decode_for_parsing(&s.input[..len])?;
        s.header = Span::of(s.decoder.header_json());
        s.payload = Span::of(s.decoder.payload_json());
        Ok(())
    })
}

/// Decodes a token whose payload segment the facade already decoded from base64url
/// (natively, where the platform can). The input buffer holds the decoded payload's
/// `payload_len` bytes, then the header's `header_len` and the signature's `signature_len`
/// bytes, still encoded. Same outcome and getters as [`decode_input`] on the whole token.
#[wasm_bindgen(js_name = decodeWithPayload)]
pub fn decode_with_payload(payload_len: usize, header_len: usize, signature_len: usize) -> i32 {
    with_parts(
        [payload_len, header_len, signature_len],
        |decoder, [p, h, s]| decoder.decode_with_payload(h, p, s),
    )
}

/// [`decode_with_payload`] without the payload's JSON checks, as [`decode_input_for_parsing`].
#[wasm_bindgen(js_name = decodeWithPayloadForParsing)]
pub fn decode_with_payload_for_parsing(
    payload_len: usize,
    header_len: usize,
    signature_len: usize,
) -> i32 {
    with_parts(
        [payload_len, header_len, signature_len],
        |decoder, [p, h, s]| {
            decoder.decode_with_payload_for_parsing(h, p, s)?;
            Ok(TimeClaims::default())
        },
    )
}

/// Splits the input buffer into payload, header and signature of the given lengths, runs
/// `decode`, and records the claims and where the header and payload JSON are.
fn with_parts(
    [payload_len, header_len, signature_len]: [usize; 3],
    decode: impl FnOnce(&mut Decoder, [&[u8]; 3]) -> Result<TimeClaims, TokenError>,
) -> i32 {
    let len = payload_len
        .saturating_add(header_len)
        .saturating_add(signature_len);
    with_input(len, |state, len| {
        let DecodeState {
            input,
            decoder,
            claims,
            header,
            payload,
        } = state;
        let (payload_json, rest) = input[..len].split_at(payload_len);
        let (header_text, signature_text) = rest.split_at(header_len);
        *claims = decode(decoder, [payload_json, header_text, signature_text])?;
        *header = Span::of(decoder.header_json());
        *payload = Span::of(payload_json);
        Ok(())
    })
}

/// Where the decoded header JSON starts in wasm memory.
#[wasm_bindgen(js_name = headerPtr)]
pub fn header_ptr() -> usize {
    STATE.with_borrow(|s| s.header.ptr)
}

/// The decoded header's length in bytes.
#[wasm_bindgen(js_name = headerLen)]
pub fn header_len() -> usize {
    STATE.with_borrow(|s| s.header.len)
}

/// Where the decoded payload JSON starts in wasm memory.
#[wasm_bindgen(js_name = payloadPtr)]
pub fn payload_ptr() -> usize {
    STATE.with_borrow(|s| s.payload.ptr)
}

/// The decoded payload's length in bytes.
#[wasm_bindgen(js_name = payloadLen)]
pub fn payload_len() -> usize {
    STATE.with_borrow(|s| s.payload.len)
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

use crate::error::KeeperError;
use crate::keeper::{Access, KeeperConfig};
use crate::oauth::OAuthClient;
use crate::record::ClearReason;
use crate::schedule::RetryPolicy;
use crate::store::StorageKind;
use crate::web::convert::{field, tokens_from};
use crate::web::driver::{Driver, Host};
use crate::web::http::Transport;

const STORAGE_SHAPE: &str = "storage must be \"session\", \"local\" or \"memory\"";
const OAUTH_SHAPE: &str =
    "oauth must be { tokenEndpoint: string, clientId: string, scope?: string, \
                           extraParams?: Record<string, string> }";
const RETRY_SHAPE: &str = "retry must be { maxAttempts?: integer >= 1, baseDelayMs?: number >= 0, maxDelayMs?: number >= 0 }";

fn config_from(options: &JsValue) -> Result<KeeperConfig, KeeperError> {
    let defaults = KeeperConfig::default();
    if options.is_undefined() || options.is_null() {
        return Ok(defaults);
    }
    let bad = KeeperError::InvalidArgument;
    let string = |name| field(options, name, JsValue::as_string);
    let number = |name, what| field(options, name, JsValue::as_f64).map_err(|_| bad(what));
    let storage = match string("storage").map_err(|_| bad(STORAGE_SHAPE))? {
        None => defaults.storage,
        Some(name) => StorageKind::from_name(&name).ok_or(bad(STORAGE_SHAPE))?,
    };
    let retry = match field(options, "retry", |v| v.is_object().then(|| v.clone()))
        .map_err(|_| bad(RETRY_SHAPE))?
    {
        None => defaults.retry,
        Some(r) => {
            let n = |name| field(&r, name, JsValue::as_f64).map_err(|_| bad(RETRY_SHAPE));
            let attempts = n("maxAttempts")?;
            if attempts.is_some_and(|a| !((1.0..=1000.0).contains(&a) && a.fract() == 0.0)) {
                return Err(bad(RETRY_SHAPE));
            }
            RetryPolicy {
                max_attempts: attempts.map_or(defaults.retry.max_attempts, |a| a as u32),
                base_delay_ms: n("baseDelayMs")?.unwrap_or(defaults.retry.base_delay_ms),
                max_delay_ms: n("maxDelayMs")?.unwrap_or(defaults.retry.max_delay_ms),
            }
        }
    };
    let config = KeeperConfig {
        namespace: string("namespace")
            .map_err(|_| bad("namespace must be a string"))?
            .unwrap_or(defaults.namespace),
        storage,
        cross_tab: field(options, "crossTab", JsValue::as_bool)
            .map_err(|_| bad("crossTab must be a boolean"))?
            .unwrap_or(defaults.cross_tab),
        idle_timeout_ms: number(
            "idleTimeoutSeconds",
            "idleTimeoutSeconds must be a positive number",
        )?
        .map(|s| s * 1000.0),
        max_session_ms: number(
            "maxSessionSeconds",
            "maxSessionSeconds must be a positive number",
        )?
        .map(|s| s * 1000.0),
        min_validity_s: number(
            "minValiditySeconds",
            "minValiditySeconds must be a number >= 0",
        )?
        .unwrap_or(defaults.min_validity_s),
        refresh_before_s: number(
            "refreshBeforeSeconds",
            "refreshBeforeSeconds must be a number >= 0",
        )?
        .unwrap_or(defaults.refresh_before_s),
        retry,
        ..defaults
    };
    config.validate()?;
    Ok(config)
}

fn transport_from(
    options: &JsValue,
    refresh: Option<js_sys::Function>,
) -> Result<Transport, KeeperError> {
    let bad = || KeeperError::InvalidArgument(OAUTH_SHAPE);
    let oauth = if options.is_object() {
        field(options, "oauth", |v| v.is_object().then(|| v.clone())).map_err(|_| bad())?
    } else {
        None
    };
    match (refresh, oauth) {
        (Some(_), Some(_)) => Err(KeeperError::InvalidArgument(
            "give either refresh or oauth, not both",
        )),
        (Some(f), None) => Ok(Transport::Callback(f)),
        (None, None) => Ok(Transport::None),
        (None, Some(o)) => {
            let text = |name| field(&o, name, JsValue::as_string).map_err(|_| bad());
            let token_endpoint = text("tokenEndpoint")?
                .filter(|t| !t.is_empty())
                .ok_or_else(bad)?;
            let client_id = text("clientId")?
                .filter(|t| !t.is_empty())
                .ok_or_else(bad)?;
            let mut extra_params = Vec::new();
            if let Some(extra) =
                field(&o, "extraParams", |v| v.is_object().then(|| v.clone())).map_err(|_| bad())?
            {
                let extra: js_sys::Object = extra.unchecked_into();
                for entry in js_sys::Object::entries(&extra).iter() {
                    let pair: js_sys::Array = entry.unchecked_into();
                    let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string())
                    else {
                        return Err(bad());
                    };
                    extra_params.push((k, v));
                }
            }
            Ok(Transport::OAuth(OAuthClient {
                token_endpoint,
                client_id,
                scope: text("scope")?,
                extra_params,
            }))
        }
    }
}

/// The Rust half of a `TokenKeeper`.
#[wasm_bindgen]
pub struct KeeperHandle {
    driver: Driver,
}

#[wasm_bindgen]
impl KeeperHandle {
    /// `emit(type, a, b)` receives events; `make_error(code, message, part, claim)` builds
    /// the errors thrown; `clock()` is the injected clock and `refresh(current)` the app's
    /// refresh call, if any.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: JsValue,
        emit: js_sys::Function,
        make_error: js_sys::Function,
        clock: Option<js_sys::Function>,
        refresh: Option<js_sys::Function>,
    ) -> Result<KeeperHandle, JsValue> {
        let host = Host {
            emit,
            make_error,
            clock,
        };
        let config = config_from(&options).map_err(|e| host.error(e))?;
        let transport = transport_from(&options, refresh).map_err(|e| host.error(e))?;
        Ok(KeeperHandle {
            driver: Driver::start(config, host, transport),
        })
    }

    fn fail(&self, e: KeeperError) -> JsValue {
        self.driver.error(e)
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

    /// The access token: at once while fresh, after a (shared) refresh otherwise.
    #[wasm_bindgen(js_name = getAccessToken)]
    pub fn get_access_token(&self) -> js_sys::Promise {
        match self.driver.run(|k, now| k.access(now)) {
            Ok(Access::Fresh(token)) => js_sys::Promise::resolve(&JsValue::from_str(&token)),
            Ok(Access::Refresh) => self.driver.after_refresh(false),
            Ok(Access::Fail(e)) | Err(e) => js_sys::Promise::reject(&self.fail(e)),
        }
    }

    /// The hot path of `getAccessToken`: the version of the token held when it is fresh (the
    /// facade caches the token string by version), or -1 when the full path is needed.
    #[wasm_bindgen(js_name = freshTokenVersion)]
    pub fn fresh_token_version(&self) -> f64 {
        match self.driver.run(|k, now| k.fresh_token_version(now)) {
            Ok(Some(version)) => f64::from(version),
            _ => -1.0,
        }
    }

    /// Until when (client epoch ms) the fresh token may be handed out without asking again;
    /// NaN when every call must come here (see `Keeper::fresh_until`).
    #[wasm_bindgen(getter, js_name = freshUntil)]
    pub fn fresh_until(&self) -> f64 {
        self.driver
            .read(|k| k.fresh_until())
            .flatten()
            .unwrap_or(f64::NAN)
    }

    /// Refreshes now (joining a refresh under way); resolves to the new token set.
    pub fn refresh(&self) -> js_sys::Promise {
        self.driver.after_refresh(true)
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
