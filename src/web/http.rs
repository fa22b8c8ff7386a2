//! The token endpoint over `fetch` (in browsers and in Node), and the app's own refresh
//! callback: both answer with tokens or a [`RefreshFailure`] that says what to do next.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::keeper::TokenSet;
use crate::oauth::{
    interpret_response, refresh_form, retry_after_seconds, OAuthClient, RefreshFailure,
};
use crate::web::convert::{token_set_object, tokens_from};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &JsValue) -> Promise;
}

/// How this keeper refreshes.
#[derive(Clone)]
pub enum Transport {
    /// Not configured.
    None,
    /// The app's `refresh(current) => Promise<TokenSet>`.
    Callback(Function),
    /// The built-in refresh-token grant.
    OAuth(OAuthClient),
}

/// Tokens, and the response's `Date` (epoch ms) when there was one.
pub type Refreshed = (TokenSet, Option<f64>);

impl Transport {
    /// Runs one refresh attempt with the tokens held now.
    pub async fn refresh(&self, current: &TokenSet) -> Result<Refreshed, RefreshFailure> {
        match self {
            Transport::None => Err(RefreshFailure::Rejected),
            Transport::Callback(f) => call_back(f, current).await,
            Transport::OAuth(client) => match &current.refresh_token {
                Some(rt) => refresh_grant(client, rt).await,
                None => Err(RefreshFailure::Rejected), // nothing to refresh with
            },
        }
    }
}

async fn call_back(f: &Function, current: &TokenSet) -> Result<Refreshed, RefreshFailure> {
    let returned = f
        .call1(&JsValue::UNDEFINED, &token_set_object(current))
        .map_err(|e| classify_thrown(&e))?;
    let value = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| classify_thrown(&e))?;
    let tokens = tokens_from(&value).map_err(|_| RefreshFailure::Rejected)?;
    Ok((tokens, None))
}

/// What an error thrown by the app's callback means: `invalid_grant` as its `error` or `code`
/// (the OAuth error code, as SDKs put it), or a 400/401 `status`, signs out; anything else is
/// retried.
fn classify_thrown(error: &JsValue) -> RefreshFailure {
    let text = |k: &str| {
        Reflect::get(error, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    let status = Reflect::get(error, &JsValue::from_str("status"))
        .ok()
        .and_then(|v| v.as_f64());
    let says_invalid_grant = ["error", "code"]
        .iter()
        .any(|k| text(k).as_deref() == Some("invalid_grant"));
    if says_invalid_grant || matches!(status, Some(s) if s == 400.0 || s == 401.0) {
        RefreshFailure::InvalidGrant
    } else {
        RefreshFailure::Retry {
            retry_after_ms: None,
        }
    }
}

fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in entries {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn call_method(target: &JsValue, name: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(target, &JsValue::from_str(name))?.dyn_into()?;
    match args {
        [] => method.call0(target),
        [a] => method.call1(target, a),
        _ => Err(JsValue::UNDEFINED),
    }
}

/// POSTs the refresh-token grant. Network errors (including a dropped connection while the
/// body is read) are retried; the answer is interpreted by [`interpret_response`].
pub async fn refresh_grant(
    client: &OAuthClient,
    refresh_token: &str,
) -> Result<Refreshed, RefreshFailure> {
    let retry = RefreshFailure::Retry {
        retry_after_ms: None,
    };
    let headers = object(&[
        ("content-type", "application/x-www-form-urlencoded".into()),
        ("accept", "application/json".into()),
    ]);
    let init = object(&[
        ("method", "POST".into()),
        ("headers", headers),
        ("body", refresh_form(client, refresh_token).into()),
        ("cache", "no-store".into()),
    ]);
    let response = JsFuture::from(global_fetch(&client.token_endpoint, &init))
        .await
        .map_err(|_| retry)?;
    let status = Reflect::get(&response, &JsValue::from_str("status"))
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0) as u16;
    let header = |name: &str| -> Option<String> {
        let headers = Reflect::get(&response, &JsValue::from_str("headers")).ok()?;
        call_method(&headers, "get", &[&JsValue::from_str(name)])
            .ok()?
            .as_string()
    };
    let now = js_sys::Date::now();
    let date = header("date")
        .map(|d| js_sys::Date::parse(&d))
        .filter(|d| d.is_finite());
    let retry_after = header("retry-after").and_then(|r| {
        retry_after_seconds(&r)
            .or_else(|| Some(js_sys::Date::parse(&r) - now).filter(|d| d.is_finite()))
    });
    let text_promise: Promise = call_method(&response, "text", &[])
        .map_err(|_| retry)?
        .dyn_into()
        .map_err(|_| retry)?;
    let body = JsFuture::from(text_promise)
        .await
        .map_err(|_| retry)?
        .as_string()
        .unwrap_or_default();
    interpret_response(status, &body, retry_after).map(|tokens| (tokens, date))
}
