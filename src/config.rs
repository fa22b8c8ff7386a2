//! The keeper's options: read from the JSON text the JavaScript facade makes of the options
//! object, and checked here, in one place — names (a typo such as `allowedOrigin` must not
//! silently switch a protection off), types, ranges and URLs.
//!
//! The facade encodes what JSON cannot carry (see [`crate::tokens::marker`]): functions
//! become a marker string, `NaN`/`Infinity` another, so that every rule stays here. It
//! hands configured URLs over as the platform's URL parser writes them (see [`crate::url`]).

use crate::json::value::{self, Value};
use crate::oauth::OAuthClient;
use crate::schedule::RetryPolicy;
use crate::store::StorageKind;
use crate::tokens::marker;
use crate::url;

/// How the keeper refreshes.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RefreshVia {
    /// Not configured: tokens are used until they expire.
    #[default]
    Nothing,
    /// The app's `refresh(current)` callback.
    Callback,
    /// The built-in refresh-token grant.
    OAuth(OAuthClient),
}

/// How `clear()` revokes the refresh token at the server (RFC 7009), if at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RevokeVia {
    /// No revocation configured.
    #[default]
    Nothing,
    /// The app's `revoke(tokens)` callback.
    Callback,
    /// `oauth.revocationEndpoint` (canonical URL).
    Endpoint(String),
}

/// The options of a keeper, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct KeeperConfig {
    /// Storage key prefix: `<namespace>:tokens`.
    pub namespace: String,
    /// Where tokens go without "remember me".
    pub storage: StorageKind,
    /// Share refreshes, sign-out and activity with the other tabs of the origin.
    pub cross_tab: bool,
    /// Sign out after this long without activity, ms.
    pub idle_timeout_ms: Option<f64>,
    /// Warn this long before an idle sign-out, ms (the `idle-warning` event).
    pub idle_warning_ms: f64,
    /// Sign out this long after sign-in, ms.
    pub max_session_ms: Option<f64>,
    /// `getAccessToken` never hands out a token with less than this left, seconds.
    pub min_validity_s: f64,
    /// Refresh this long before expiry, seconds (shrunk for short-lived tokens).
    pub refresh_before_s: f64,
    /// How to refresh.
    pub refresh: RefreshVia,
    /// How to revoke on `clear()`.
    pub revoke: RevokeVia,
    /// Backoff for failed refreshes.
    pub retry: RetryPolicy,
    /// Each token-endpoint (and revocation) request is aborted after this long, ms.
    pub request_timeout_ms: f64,
    /// The longest wait for another tab's refresh, ms.
    pub lock_timeout_ms: f64,
    /// Where `keeper.fetch` may send a token: canonical URL prefixes ending in `/`.
    pub allowed_origins: Vec<String>,
    /// Sender-constrained tokens (RFC 9449).
    pub dpop: bool,
    /// Seeds the jitter and DPoP `jti`s; the browser passes a random one.
    pub random_seed: u64,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        KeeperConfig {
            namespace: "tokenkeeper".into(),
            storage: StorageKind::Session,
            cross_tab: true,
            idle_timeout_ms: None,
            idle_warning_ms: 60_000.0,
            max_session_ms: None,
            min_validity_s: 5.0,
            refresh_before_s: 60.0,
            refresh: RefreshVia::Nothing,
            revoke: RevokeVia::Nothing,
            retry: RetryPolicy::default(),
            request_timeout_ms: 10_000.0,
            lock_timeout_ms: 15_000.0,
            allowed_origins: Vec::new(),
            dpop: false,
            random_seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl KeeperConfig {
    /// Whether a refresh is configured.
    pub fn can_refresh(&self) -> bool {
        self.refresh != RefreshVia::Nothing
    }

    /// The storage key of the record.
    pub fn storage_key(&self) -> String {
        [self.namespace.as_str(), ":tokens"].concat()
    }

    /// Whether tabs coordinate refreshes (only tabs that can share tokens need to).
    pub fn shares_refreshes(&self) -> bool {
        self.cross_tab && self.storage != StorageKind::Memory
    }
}

/// Why options were refused: a fixed reason, and which option (`oauth.tokenEndpoint`,
/// `allowedOrigins[1]`, an unknown name...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    /// The option's path.
    pub option: String,
    /// What is wrong with it.
    pub why: &'static str,
}

fn refuse<T>(option: &str, why: &'static str) -> Result<T, OptionError> {
    Err(OptionError {
        option: option.to_owned(),
        why,
    })
}

/// What the page tells the options reader.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// `location.origin` where there is a page (the default allow-list), `None` in Node.
    pub origin: Option<String>,
}

const TOP_LEVEL: [&str; 17] = [
    "namespace",
    "storage",
    "refresh",
    "oauth",
    "revoke",
    "refreshBeforeSeconds",
    "minValiditySeconds",
    "retry",
    "crossTab",
    "idleTimeoutSeconds",
    "idleWarningSeconds",
    "maxSessionSeconds",
    "now",
    "allowedOrigins",
    "requestTimeoutMs",
    "lockTimeoutMs",
    "dpop",
];
const OAUTH: [&str; 5] = [
    "tokenEndpoint",
    "clientId",
    "scope",
    "extraParams",
    "revocationEndpoint",
];
const RETRY: [&str; 3] = ["maxAttempts", "baseDelayMs", "maxDelayMs"];
/// Form parameters the refresh grant sets itself; `extraParams` may not replace them.
const RESERVED_PARAMS: [&str; 4] = ["grant_type", "refresh_token", "client_id", "scope"];

/// Reads and checks the options JSON (`null` or absent means all defaults).
pub fn parse_options(json: &str, page: &Page) -> Result<KeeperConfig, OptionError> {
    let options = value::parse(json).ok_or(OptionError {
        option: String::new(),
        why: "options must be a plain object",
    })?;
    let mut config = KeeperConfig {
        allowed_origins: page
            .origin
            .as_deref()
            // An origin's href is the origin and `/`.
            .and_then(|o| url::allow_entry(&[o, "/"].concat()).ok())
            .into_iter()
            .collect(),
        ..KeeperConfig::default()
    };
    let members = match &options {
        Value::Null => return Ok(config),
        Value::Object(m) => m,
        _ => return refuse("", "options must be a plain object"),
    };
    check_names(members, &TOP_LEVEL, "")?;
    let o = Options(&options);

    if let Some(ns) = o.string("namespace")? {
        if ns.is_empty() || ns.chars().count() > 200 {
            return refuse(
                "namespace",
                "must be a non-empty string of at most 200 characters",
            );
        }
        config.namespace = ns.to_owned();
    }
    if let Some(name) = o.string("storage")? {
        config.storage = StorageKind::from_name(name)
            .ok_or(())
            .or_else(|()| refuse("storage", "must be \"session\", \"local\" or \"memory\""))?;
    }
    if let Some(b) = o.boolean("crossTab")? {
        config.cross_tab = b;
    }
    if let Some(b) = o.boolean("dpop")? {
        config.dpop = b;
    }
    o.function_or_absent("now")?;
    config.refresh_before_s = o
        .number_in(
            "refreshBeforeSeconds",
            0.0,
            86_400.0,
            "must be a number of seconds from 0 to 86400",
        )?
        .unwrap_or(config.refresh_before_s);
    config.min_validity_s = o
        .number_in(
            "minValiditySeconds",
            0.0,
            3_600.0,
            "must be a number of seconds from 0 to 3600",
        )?
        .unwrap_or(config.min_validity_s);
    config.idle_timeout_ms = o
        .number_in(
            "idleTimeoutSeconds",
            1.0,
            31_536_000.0,
            "must be a number of seconds from 1 to one year",
        )?
        .map(|s| s * 1000.0);
    config.max_session_ms = o
        .number_in(
            "maxSessionSeconds",
            1.0,
            315_576_000.0,
            "must be a number of seconds from 1 to ten years",
        )?
        .map(|s| s * 1000.0);
    match o.number_in(
        "idleWarningSeconds",
        0.0,
        31_536_000.0,
        "must be a number of seconds from 0 to one year",
    )? {
        Some(w) => {
            if config
                .idle_timeout_ms
                .is_some_and(|idle| w * 1000.0 >= idle)
            {
                return refuse("idleWarningSeconds", "must be less than idleTimeoutSeconds");
            }
            config.idle_warning_ms = w * 1000.0;
        }
        // The default warns a minute ahead, or halfway for short idle timeouts.
        None => {
            if let Some(idle) = config.idle_timeout_ms {
                config.idle_warning_ms = config.idle_warning_ms.min(idle / 2.0);
            }
        }
    }
    config.request_timeout_ms = o
        .number_in(
            "requestTimeoutMs",
            1.0,
            600_000.0,
            "must be a number of ms from 1 to 600000",
        )?
        .unwrap_or(config.request_timeout_ms);
    config.lock_timeout_ms = o
        .number_in(
            "lockTimeoutMs",
            1.0,
            600_000.0,
            "must be a number of ms from 1 to 600000",
        )?
        .unwrap_or(config.lock_timeout_ms);
    if let Some(retry) = o.object("retry")? {
        config.retry = parse_retry(retry)?;
    }
    if let Some(list) = o.get("allowedOrigins") {
        config.allowed_origins = parse_allowed_origins(list)?;
    }

    let callback = o.function_or_absent("refresh")?;
    let revoke_callback = o.function_or_absent("revoke")?;
    let oauth = o.object("oauth")?;
    let revocation_endpoint = match oauth {
        Some(oauth) => {
            config.refresh = RefreshVia::OAuth(parse_oauth(oauth)?);
            Options(oauth).url("revocationEndpoint", "oauth.revocationEndpoint")?
        }
        None => None,
    };
    if callback {
        if oauth.is_some() {
            return refuse("refresh", "give either refresh or oauth, not both");
        }
        config.refresh = RefreshVia::Callback;
    }
    config.revoke = match (revoke_callback, revocation_endpoint) {
        (true, Some(_)) => {
            return refuse(
                "revoke",
                "give either revoke or oauth.revocationEndpoint, not both",
            )
        }
        (true, None) => RevokeVia::Callback,
        (false, Some(endpoint)) => RevokeVia::Endpoint(endpoint),
        (false, None) => RevokeVia::Nothing,
    };
    Ok(config)
}

fn check_names(
    members: &[(String, Value)],
    known: &[&str],
    prefix: &str,
) -> Result<(), OptionError> {
    match members
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    {
        Some((name, _)) => Err(OptionError {
            option: [prefix, name.as_str()].concat(),
            why: "is not an option (check its spelling)",
        }),
        None => Ok(()),
    }
}

fn parse_retry(retry: &Value) -> Result<RetryPolicy, OptionError> {
    check_names(retry.members().unwrap_or_default(), &RETRY, "retry.")?;
    let r = Options(retry);
    let defaults = RetryPolicy::default();
    let attempts = r.number_in(
        "maxAttempts",
        1.0,
        100.0,
        "must be an integer from 1 to 100",
    )?;
    if attempts.is_some_and(|a| a.fract() != 0.0) {
        return refuse("retry.maxAttempts", "must be an integer from 1 to 100");
    }
    let policy = RetryPolicy {
        max_attempts: attempts.map_or(defaults.max_attempts, |a| a as u32),
        base_delay_ms: r
            .number_in(
                "baseDelayMs",
                0.0,
                3_600_000.0,
                "must be a number of ms from 0 to 3600000",
            )?
            .unwrap_or(defaults.base_delay_ms),
        max_delay_ms: r
            .number_in(
                "maxDelayMs",
                0.0,
                86_400_000.0,
                "must be a number of ms from 0 to 86400000",
            )?
            .unwrap_or(defaults.max_delay_ms),
    };
    if policy.max_delay_ms < policy.base_delay_ms {
        return refuse(
            "retry.maxDelayMs",
            "must not be less than retry.baseDelayMs",
        );
    }
    Ok(policy)
}

fn parse_allowed_origins(list: &Value) -> Result<Vec<String>, OptionError> {
    let Some(entries) = list.elements() else {
        return refuse(
            "allowedOrigins",
            "must be an array of origins or URL prefixes ending in \"/\"",
        );
    };
    let mut allowed = Vec::with_capacity(entries.len());
    for entry in entries {
        let canonical = entry
            .as_str()
            .ok_or(url::UrlError::NotAbsolute)
            .and_then(url::allow_entry)
            .map_err(|e| OptionError {
                option: "allowedOrigins".into(),
                why: e.message(),
            })?;
        allowed.push(canonical);
    }
    Ok(allowed)
}

fn parse_oauth(oauth: &Value) -> Result<OAuthClient, OptionError> {
    check_names(oauth.members().unwrap_or_default(), &OAUTH, "oauth.")?;
    let o = Options(oauth);
    let token_endpoint = o
        .url("tokenEndpoint", "oauth.tokenEndpoint")?
        .ok_or(())
        .or_else(|()| refuse("oauth.tokenEndpoint", "is required"))?;
    let client_id = match o.string("clientId")? {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => return refuse("oauth.clientId", "must be a non-empty string"),
    };
    let scope = o.string("scope")?.map(str::to_owned);
    let mut extra_params = Vec::new();
    if let Some(extra) = o.object("extraParams")? {
        for (name, v) in extra.members().unwrap_or_default() {
            if RESERVED_PARAMS.contains(&name.as_str()) {
                return refuse(
                    "oauth.extraParams",
                    "may not set grant_type, refresh_token, client_id or scope",
                );
            }
            match v.as_str() {
                Some(text) if !text.starts_with('\u{0}') => {
                    extra_params.push((name.clone(), text.to_owned()))
                }
                _ => return refuse("oauth.extraParams", "must map names to strings"),
            }
        }
    }
    Ok(OAuthClient {
        token_endpoint,
        client_id,
        scope,
        extra_params,
    })
}

/// Typed reads of an options object; `null` counts as absent.
struct Options<'a>(&'a Value);

impl<'a> Options<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| **v != Value::Null)
    }

    fn string(&self, name: &'static str) -> Result<Option<&'a str>, OptionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if !s.starts_with('\u{0}') => Ok(Some(s)),
            Some(_) => refuse(name, "must be a string"),
        }
    }

    fn boolean(&self, name: &'static str) -> Result<Option<bool>, OptionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => refuse(name, "must be true or false"),
        }
    }

    fn object(&self, name: &'static str) -> Result<Option<&'a Value>, OptionError> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v)),
            Some(_) => refuse(name, "must be an object"),
        }
    }

    /// Whether the option is a function (absent: false).
    fn function_or_absent(&self, name: &'static str) -> Result<bool, OptionError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::String(s)) if s == marker::FUNCTION => Ok(true),
            Some(_) => refuse(name, "must be a function"),
        }
    }

    /// A finite number within `[min, max]`.
    fn number_in(
        &self,
        name: &'static str,
        min: f64,
        max: f64,
        why: &'static str,
    ) -> Result<Option<f64>, OptionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) if (min..=max).contains(n) => Ok(Some(*n)),
            Some(_) => refuse(name, why),
        }
    }

    /// A token or revocation endpoint: the facade's canonical href, checked.
    fn url(&self, name: &'static str, path: &'static str) -> Result<Option<String>, OptionError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => url::endpoint(text).map(Some).map_err(|e| OptionError {
                option: path.into(),
                why: e.message(),
            }),
            Some(_) => refuse(path, "must be a URL string"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<KeeperConfig, OptionError> {
        parse_options(
            json,
            &Page {
                origin: Some("https://app.example".into()),
            },
        )
    }

    fn refused(json: &str) -> String {
        let e = parse(json).unwrap_err();
        [e.option.as_str(), " ", e.why].concat()
    }

    #[test]
    fn defaults_allow_the_pages_own_origin_only() {
        let c = parse("null").unwrap();
        assert_eq!(c.allowed_origins, vec!["https://app.example/".to_owned()]);
        assert_eq!(c.request_timeout_ms, 10_000.0);
        assert_eq!(c.lock_timeout_ms, 15_000.0);
        let node = parse_options("{}", &Page::default()).unwrap();
        assert!(node.allowed_origins.is_empty(), "no page, no default");
    }

    #[test]
    fn unknown_names_are_refused_naming_them() {
        assert!(refused(r#"{"allowedOrigin":["https://a.example"]}"#).starts_with("allowedOrigin "));
        assert!(refused(r#"{"retry":{"maxAttempt":2}}"#).starts_with("retry.maxAttempt "));
        assert!(refused(r#"{"oauth":{"tokenEndpoint":"https://a.example/t","clientId":"c","revocationEndPoint":"x"}}"#)
            .starts_with("oauth.revocationEndPoint "));
    }

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        for bad in [
            r#"{"refreshBeforeSeconds":-120}"#,
            r#"{"refreshBeforeSeconds":"\u0000non-finite"}"#,
            r#"{"minValiditySeconds":-1}"#,
            r#"{"idleTimeoutSeconds":0}"#,
            r#"{"maxSessionSeconds":"\u0000non-finite"}"#,
            r#"{"retry":{"baseDelayMs":-5}}"#,
            r#"{"retry":{"maxAttempts":1.5}}"#,
            r#"{"retry":{"maxAttempts":0}}"#,
            r#"{"retry":{"baseDelayMs":5000,"maxDelayMs":1000}}"#,
            r#"{"requestTimeoutMs":0}"#,
            r#"{"lockTimeoutMs":1e9}"#,
            r#"{"idleTimeoutSeconds":30,"idleWarningSeconds":30}"#,
            r#"{"crossTab":"yes"}"#,
            r#"{"now":5}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let c = parse(r#"{"refreshBeforeSeconds":0,"idleTimeoutSeconds":30}"#).unwrap();
        assert_eq!(c.refresh_before_s, 0.0);
        assert_eq!(
            c.idle_warning_ms, 15_000.0,
            "default warning shrinks to half"
        );
    }

    #[test]
    fn endpoints_must_be_secure_absolute_urls() {
        let oauth = |url: &str| {
            [
                r#"{"oauth":{"clientId":"c","tokenEndpoint":""#,
                url,
                r#""}}"#,
            ]
            .concat()
        };
        for bad in [
            "/token",
            "ftp://a.example/t",
            "http://a.example/t",
            "javascript:alert(1)",
            "//a.example/t",
        ] {
            assert!(
                refused(&oauth(bad)).starts_with("oauth.tokenEndpoint "),
                "{bad}"
            );
        }
        for good in [
            "https://a.example/t",
            "http://127.0.0.1:8080/token",
            "http://localhost/t",
        ] {
            assert!(parse(&oauth(good)).is_ok(), "{good}");
        }
        assert!(
            refused(r#"{"allowedOrigins":["http://api.example"]}"#).starts_with("allowedOrigins ")
        );
        assert!(
            refused(r#"{"allowedOrigins":"https://api.example"}"#).starts_with("allowedOrigins ")
        );
    }

    #[test]
    fn refresh_and_revoke_are_one_way_each() {
        assert!(parse(r#"{"refresh":"\u0000function","oauth":{"clientId":"c","tokenEndpoint":"https://a.example/t"}}"#).is_err());
        assert!(parse(r#"{"revoke":"\u0000function","oauth":{"clientId":"c","tokenEndpoint":"https://a.example/t","revocationEndpoint":"https://a.example/r"}}"#).is_err());
        let c = parse(r#"{"refresh":"\u0000function","revoke":"\u0000function"}"#).unwrap();
        assert_eq!(
            (c.refresh, c.revoke),
            (RefreshVia::Callback, RevokeVia::Callback)
        );
        assert!(parse(r#"{"oauth":{"clientId":"c","tokenEndpoint":"https://a.example/t","extraParams":{"grant_type":"x"}}}"#).is_err());
    }
}
