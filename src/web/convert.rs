//! Reading options and token sets from JavaScript objects, and making token-set objects.
//! Read field by field rather than through serde: serde's error messages would bring float
//! formatting into the module (tens of KB) for errors whose text is never shown.

use js_sys::{JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::KeeperError;
use crate::jwt::MAX_TOKEN_LEN;
use crate::keeper::TokenSet;

/// A field present with the wrong type (or a getter that threw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

/// A field of a JS object: `Ok(None)` when absent (undefined or null), `Err` when present
/// with the wrong type.
pub fn field<T>(
    object: &JsValue,
    name: &str,
    read: impl Fn(&JsValue) -> Option<T>,
) -> Result<Option<T>, WrongType> {
    let value = Reflect::get(object, &JsValue::from_str(name)).map_err(|_| WrongType)?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    read(&value).map(Some).ok_or(WrongType)
}

const TOKENS_SHAPE: &str =
    "tokens must be { accessToken: string, refreshToken?: string, idToken?: string, expiresIn?: number }";
const TOKEN_TOO_LONG: &str = "tokens longer than 1 MiB are refused";
const TOKEN_FIELDS: [&str; 6] = [
    "accessToken",
    "access_token",
    "refreshToken",
    "refresh_token",
    "idToken",
    "id_token",
];

/// Reads a token set; the snake_case names of a raw OAuth 2.0 token response work too.
pub fn tokens_from(tokens: &JsValue) -> Result<TokenSet, KeeperError> {
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
    // Measured before anything is copied into wasm memory, which would grow for good.
    for name in TOKEN_FIELDS {
        let value = Reflect::get(tokens, &JsValue::from_str(name)).unwrap_or_default();
        if let Some(text) = value.dyn_ref::<JsString>() {
            if text.length() as usize > MAX_TOKEN_LEN {
                return Err(KeeperError::InvalidArgument(TOKEN_TOO_LONG));
            }
        }
    }
    Ok(TokenSet {
        access_token: either(tokens, "accessToken", "access_token", JsValue::as_string)?
            .ok_or(KeeperError::InvalidArgument(TOKENS_SHAPE))?,
        refresh_token: either(tokens, "refreshToken", "refresh_token", JsValue::as_string)?,
        id_token: either(tokens, "idToken", "id_token", JsValue::as_string)?,
        expires_in: either(tokens, "expiresIn", "expires_in", JsValue::as_f64)?,
    })
}

/// `{ accessToken, refreshToken?, idToken?, expiresIn? }`.
pub fn token_set_object(tokens: &TokenSet) -> JsValue {
    let object = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&object, &JsValue::from_str(k), &v);
    };
    set("accessToken", tokens.access_token.as_str().into());
    if let Some(r) = &tokens.refresh_token {
        set("refreshToken", r.as_str().into());
    }
    if let Some(i) = &tokens.id_token {
        set("idToken", i.as_str().into());
    }
    if let Some(e) = tokens.expires_in {
        set("expiresIn", e.into());
    }
    object.into()
}
