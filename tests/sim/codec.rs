//! The simulator's side of the wire: reports written as `js/runtime/steps.js` writes them and
//! steps read back from the JSON the facade's `advance` call answers with, so that every
//! simulated refresh crosses the keeper's codec (`tokenkeeper::wire`) as a browser's does; and
//! every output the simulator carries out is written as the facade receives it and checked
//! against the protocol's schema.

use tokenkeeper::json::value::{self, Value};
use tokenkeeper::keeper::Output;
use tokenkeeper::protocol::check::check;
use tokenkeeper::refresh::{Report, Step, TokenRequest};
use tokenkeeper::tokens::{TokenSet, TokenType};
use tokenkeeper::wire;

/// A number as JSON (`-Infinity` travels as `null`, as `JSON.stringify` writes it).
fn number(n: f64) -> String {
    if n.is_finite() {
        format!("{n}")
    } else {
        "null".into()
    }
}

/// A string as JSON.
fn string(s: &str) -> String {
    let mut out = String::new();
    tokenkeeper::json::write_string(&mut out, s);
    out
}

fn opt_string(name: &str, s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(",\"{name}\":{}", string(s)))
        .unwrap_or_default()
}

/// `report` as the executor posts it (`now`: the time it is sent, for a Retry-After).
/// `queried`: the rotation query a `locked` report carries.
pub fn report(report: &Report, queried: Option<&Report>, now: f64) -> String {
    let tag = |r: &str| format!("{{\"r\":\"{r}\"}}");
    let rotation = |latest: f64, holds: &[String]| {
        let holds: Vec<String> = holds.iter().map(|h| string(h)).collect();
        format!(
            "\"latest\":{},\"holds\":[{}]",
            number(latest),
            holds.join(",")
        )
    };
    match report {
        Report::Start => tag("start"),
        Report::Ok => tag("ok"),
        Report::Locked => match queried {
            Some(Report::Rotation { latest, holds }) => {
                format!("{{\"r\":\"locked\",{}}}", rotation(*latest, holds))
            }
            _ => tag("locked"),
        },
        Report::LockTimedOut => tag("lock-timeout"),
        Report::NoLocks => tag("no-locks"),
        Report::LockFailed => tag("lock-failed"),
        Report::Unknown => tag("unknown"),
        Report::Rotation { latest, holds } => {
            format!("{{\"r\":\"rotation\",{}}}", rotation(*latest, holds))
        }
        Report::Waited => tag("waited"),
        Report::Key(jwk) => format!("{{\"r\":\"key\",\"jwk\":{}}}", string(jwk)),
        Report::NoKey => tag("no-key"),
        Report::Answer(a) => {
            let mut text = format!("{{\"r\":\"answer\",\"status\":{}", a.status);
            if let Some(date) = a.date_ms {
                text.push_str(&format!(",\"dateMs\":{}", number(date)));
            }
            if let Some(ms) = a.retry_after_ms {
                // Whole seconds as the header's digits; anything else as its date.
                if ms % 1000.0 == 0.0 {
                    text.push_str(&format!(",\"retryAfter\":\"{}\"", ms / 1000.0));
                } else {
                    text.push_str(&format!(",\"retryAfterDateMs\":{}", number(now + ms)));
                }
            }
            text.push_str(&opt_string("dpopNonce", &a.dpop_nonce));
            format!("{text},\"body\":{}}}", string(&a.body))
        }
        Report::TooLarge => tag("too-large"),
        Report::NetworkError { online } => {
            format!("{{\"r\":\"network-error\",\"online\":{online}}}")
        }
        Report::TimedOut => tag("timeout"),
        Report::CallbackTokens(json) => {
            format!("{{\"r\":\"callback-tokens\",\"tokens\":{}}}", string(json))
        }
        Report::CallbackFailed {
            error,
            code,
            status,
        } => format!(
            "{{\"r\":\"callback-failed\"{}{}{}}}",
            opt_string("error", error),
            opt_string("code", code),
            status
                .map(|s| format!(",\"status\":{}", number(s)))
                .unwrap_or_default()
        ),
        Report::Probed { cors_ok, reachable } => {
            format!("{{\"r\":\"probed\",\"corsOk\":{cors_ok},\"reachable\":{reachable}}}")
        }
    }
}

/// The steps of an `advance` call's result, as the executor reads them.
pub fn steps(json: &str) -> Vec<Step> {
    let v = value::parse(json).unwrap_or_else(|| panic!("not JSON: {json}"));
    let list = v.elements().unwrap_or_else(|| panic!("not a list: {json}"));
    list.iter().map(step).collect()
}

fn step(v: &Value) -> Step {
    let text = |name: &str| -> String {
        v.get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    };
    let num = |name: &str| {
        v.get(name)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    match v.get("step").and_then(Value::as_str).unwrap_or_default() {
        "lock" => Step::Lock {
            name: text("name"),
            timeout_ms: num("timeoutMs"),
            prefix: text("prefix"),
            hold_prefix: text("holdPrefix"),
        },
        "query-rotation" => Step::QueryRotation {
            prefix: text("prefix"),
            hold_prefix: text("holdPrefix"),
        },
        "wait" => Step::Wait {
            ms: num("ms"),
            wake_on_online: v.get("wakeOnOnline").and_then(Value::as_bool) == Some(true),
        },
        "load-key" => Step::LoadKey,
        "send" => Step::Send(TokenRequest {
            url: text("url"),
            body: text("body"),
            dpop_signing_input: v.get("dpop").and_then(Value::as_str).map(str::to_owned),
            timeout_ms: num("timeoutMs"),
        }),
        "call" => {
            let t = v.get("tokens").expect("tokens");
            let field = |name: &str| t.get(name).and_then(Value::as_str).map(str::to_owned);
            Step::Call {
                tokens: TokenSet {
                    access_token: field("accessToken").expect("accessToken"),
                    refresh_token: field("refreshToken"),
                    id_token: field("idToken"),
                    expires_in: t.get("expiresIn").and_then(Value::as_f64),
                    token_type: TokenType::from_name(&field("tokenType").unwrap_or_default()),
                },
                timeout_ms: num("timeoutMs"),
            }
        }
        "probe" => Step::Probe {
            url: text("url"),
            timeout_ms: num("timeoutMs"),
        },
        "announce" => Step::Announce {
            name: text("name"),
            hold_ms: num("holdMs"),
        },
        "release" => Step::Release,
        "done" => Step::Done,
        other => panic!("a step the executor does not know: {other}"),
    }
}

/// Writes `output` as the facade receives it and checks it against the schema (`Output`).
pub fn check_output(output: &Output) {
    let json = wire::output(output);
    let v = value::parse(&json).unwrap_or_else(|| panic!("not JSON: {json}"));
    check(&v, "Output").unwrap_or_else(|e| panic!("an output off the schema: {e}: {json}"));
}
