//! The keeper's messages to and from the browser side, as JSON text: outputs and refresh
//! steps out, reports and tab messages in. One string crosses the wasm boundary per message
//! (instead of a property read per field), and this file is the whole of the format — pure,
//! so the host tests check it too.

use crate::diagnostics::RefreshDetail;
use crate::error::KeeperError;
use crate::json::value::Value;
use crate::json::write_string;
use crate::keeper::{Event, Output, Revocation, TabMessage};
use crate::record::{write_number, ClearReason};
use crate::refresh::{HttpAnswer, RefreshResult, Report, Settlement, Step};
use crate::tokens::TokenSet;

/// A JSON object being written.
pub struct Obj(String);

impl Obj {
    /// `{"t":kind` — every message names its kind first.
    #[inline(never)]
    pub fn new(kind_key: &str, kind: &str) -> Obj {
        let mut o = Obj(String::with_capacity(64));
        o.0.push('{');
        o.key(kind_key);
        write_string(&mut o.0, kind);
        o
    }

    #[inline(never)]
    fn key(&mut self, name: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        write_string(&mut self.0, name);
        self.0.push(':');
    }

    /// A string member.
    #[inline(never)]
    pub fn str(mut self, name: &str, value: &str) -> Obj {
        self.key(name);
        write_string(&mut self.0, value);
        self
    }

    /// A string member, when there is a value.
    #[inline(never)]
    pub fn opt_str(self, name: &str, value: Option<&str>) -> Obj {
        match value {
            Some(v) => self.str(name, v),
            None => self,
        }
    }

    /// A number member (finite; up to three decimals).
    #[inline(never)]
    pub fn num(mut self, name: &str, value: f64) -> Obj {
        self.key(name);
        write_number(&mut self.0, value);
        self
    }

    /// A number member, when there is a value.
    #[inline(never)]
    pub fn opt_num(self, name: &str, value: Option<f64>) -> Obj {
        match value {
            Some(v) => self.num(name, v),
            None => self,
        }
    }

    /// A member whose value is already JSON text.
    #[inline(never)]
    pub fn raw(mut self, name: &str, json: &str) -> Obj {
        self.key(name);
        self.0.push_str(json);
        self
    }

    /// The text.
    #[inline(never)]
    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// `{"code":…,"message":…[,"part"][,"claim"]}` — what the facade turns into a `TokenError`.
pub fn error(e: KeeperError) -> String {
    error_with(e, None)
}

/// [`error`] with the facts behind a refresh error: `status`, `error`, `errorDescription`,
/// `endpoint`, and a message that says them.
pub fn error_with(e: KeeperError, detail: Option<&RefreshDetail>) -> String {
    let token = e.token_error();
    let o = Obj::new("code", e.code());
    let o = match detail {
        Some(d) => with_detail(o.str("message", &d.message(e)), d),
        None => o.str("message", e.message()),
    };
    o.opt_str("part", token.and_then(|t| t.part()).map(|p| p.as_str()))
        .opt_str("claim", token.and_then(|t| t.claim()).map(|c| c.as_str()))
        .end()
}

fn with_detail(o: Obj, d: &RefreshDetail) -> Obj {
    o.opt_num("status", d.status().map(f64::from))
        .opt_str("error", d.error.as_deref())
        .opt_str("errorDescription", d.description.as_deref())
        .opt_str("endpoint", d.endpoint.as_deref())
}

/// An `ERR_INVALID_ARGUMENT` naming the option (`oauth.tokenEndpoint`, an unknown name...).
pub fn option_error(option: &str, why: &str) -> String {
    // "retry.maxAttempts must be ..." reads as a sentence; a reason that is a sentence of its
    // own ("give either refresh or oauth, not both") follows the option's name after a colon.
    let message = if option.is_empty() {
        why.to_owned()
    } else if why.starts_with("must ") || why.starts_with("is ") {
        [option, " ", why].concat()
    } else {
        [option, ": ", why].concat()
    };
    Obj::new("code", "ERR_INVALID_ARGUMENT")
        .str("message", &message)
        .end()
}

fn tokens(t: &TokenSet) -> String {
    Obj::new("accessToken", &t.access_token)
        .opt_str("refreshToken", t.refresh_token.as_deref())
        .opt_str("idToken", t.id_token.as_deref())
        .opt_num("expiresIn", t.expires_in)
        .str("tokenType", t.token_type.as_str())
        .end()
}

fn refresh_result(r: &RefreshResult) -> String {
    Obj::new("accessToken", &r.access_token)
        .opt_str("idToken", r.id_token.as_deref())
        .opt_num("expiresAt", r.expires_at)
        .str("tokenType", r.token_type.as_str())
        .end()
}

fn event(e: &Event) -> String {
    let o = |kind: &str| Obj::new("t", "event").str("type", kind);
    match e {
        Event::Changed(origin) => o("changed").str("origin", origin.as_str()).end(),
        Event::Refreshing => o("refreshing").end(),
        Event::Refreshed => o("refreshed").end(),
        Event::Expired => o("expired").end(),
        Event::Cleared(reason) => o("cleared").str("reason", reason.as_str()).end(),
        Event::Error(err, retry_after_s, None) => o("error")
            .str("code", err.code())
            .str("message", err.message())
            .opt_num("retryAfterSeconds", *retry_after_s)
            .end(),
        Event::Error(err, retry_after_s, Some(detail)) => with_detail(
            o("error")
                .str("code", err.code())
                .str("message", &detail.message(*err)),
            detail,
        )
        .opt_num("retryAfterSeconds", *retry_after_s)
        .end(),
        Event::IdleWarning(seconds_left) => {
            o("idle-warning").num("secondsLeft", *seconds_left).end()
        }
    }
}

/// A tab message as posted on the BroadcastChannel.
pub fn tab_message(m: &TabMessage) -> String {
    match m {
        TabMessage::Cleared(reason) => Obj::new("type", "cleared")
            .str("reason", reason.as_str())
            .end(),
        TabMessage::Activity(at) => Obj::new("type", "activity").num("at", *at).end(),
        // JSON has no infinity: a hold without end (CORS) travels without `until`.
        TabMessage::Held(hold, until) => Obj::new("type", "held")
            .str("reason", hold.as_str())
            .opt_num("until", Some(*until).filter(|u| u.is_finite()))
            .end(),
    }
}

/// A tab message received (`None` for anything else: another version, another library).
pub fn parse_tab_message(v: &Value) -> Option<TabMessage> {
    match v.get("type")?.as_str()? {
        "cleared" => Some(TabMessage::Cleared(ClearReason::from_name(
            v.get("reason")?.as_str()?,
        )?)),
        "activity" => v
            .get("at")?
            .as_f64()
            .filter(|a| a.is_finite())
            .map(TabMessage::Activity),
        "held" => Some(TabMessage::Held(
            crate::keeper::Hold::from_name(v.get("reason")?.as_str()?)?,
            v.get("until")
                .and_then(Value::as_f64)
                .unwrap_or(f64::INFINITY),
        )),
        _ => None,
    }
}

fn settlement(s: &Settlement) -> String {
    let access = match &s.access {
        Ok(token) => Obj::new("t", "token").str("token", token).end(),
        Err(e) => Obj::new("t", "error")
            .raw("error", &error_with(*e, s.detail.as_ref()))
            .end(),
    };
    let settled = Obj::new("t", "settle").raw("access", &access);
    let refresh = match &s.refresh {
        None => return settled.end(), // `refresh()` callers wait for the next attempt
        Some(Ok(r)) => Obj::new("t", "result").raw("result", &refresh_result(r)),
        Some(Err(e)) => Obj::new("t", "error").raw("error", &error_with(*e, s.detail.as_ref())),
    };
    settled.raw("refresh", &refresh.end()).end()
}

/// One output as JSON.
pub fn output(o: &Output) -> String {
    match o {
        Output::Event(e) => event(e),
        Output::Post(m) => Obj::new("t", "post").raw("message", &tab_message(m)).end(),
        Output::PostSealed {
            message,
            spent,
            secret,
        } => Obj::new("t", "post")
            .raw("message", &tab_message(message))
            .str("spent", spent)
            .str("secret", secret)
            .end(),
        Output::PostRotation {
            spent,
            secret,
            record,
        } => Obj::new("t", "rotation")
            .str("spent", spent)
            .str("secret", secret)
            .str("record", record)
            .end(),
        Output::StartRefresh(id) => Obj::new("t", "start").num("run", f64::from(*id)).end(),
        Output::Interrupt(id) => Obj::new("t", "interrupt").num("run", f64::from(*id)).end(),
        Output::Settle(s) => settlement(s),
        Output::Revoke(Revocation::Endpoint {
            url,
            body,
            dpop_signing_input,
        }) => Obj::new("t", "revoke")
            .str("url", url)
            .str("body", body)
            .opt_str("dpop", dpop_signing_input.as_deref())
            .end(),
        Output::Revoke(Revocation::Callback {
            refresh_token,
            access_token,
        }) => Obj::new("t", "revoke-callback")
            .str("accessToken", access_token)
            .opt_str("refreshToken", refresh_token.as_deref())
            .end(),
        Output::ForgetDpopKey => Obj::new("t", "forget-dpop-key").end(),
    }
}

/// JSON texts as a JSON array.
pub fn array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

/// A refresh run to drive, with its first steps (the facade's calls always carry them:
/// asking for them would cost a crossing).
pub fn start(run: u32, steps: &[Step]) -> String {
    Obj::new("t", "start")
        .num("run", f64::from(run))
        .raw("steps", &self::steps(steps))
        .end()
}

/// Refresh steps as a JSON array.
pub fn steps(list: &[Step]) -> String {
    array(&list.iter().map(step).collect::<Vec<_>>())
}

/// A refresh step as JSON.
pub fn step(s: &Step) -> String {
    let o = |kind: &str| Obj::new("step", kind);
    match s {
        Step::Lock {
            name,
            timeout_ms,
            prefix,
            hold_prefix,
        } => o("lock")
            .str("name", name)
            .num("timeoutMs", *timeout_ms)
            .str("prefix", prefix)
            .str("holdPrefix", hold_prefix)
            .end(),
        Step::QueryRotation {
            prefix,
            hold_prefix,
        } => o("query-rotation")
            .str("prefix", prefix)
            .str("holdPrefix", hold_prefix)
            .end(),
        Step::Wait { ms, wake_on_online } => o("wait")
            .num("ms", *ms)
            .raw(
                "wakeOnOnline",
                if *wake_on_online { "true" } else { "false" },
            )
            .end(),
        Step::LoadKey => o("load-key").end(),
        Step::Send(r) => o("send")
            .str("url", &r.url)
            .str("body", &r.body)
            .opt_str("dpop", r.dpop_signing_input.as_deref())
            .num("timeoutMs", r.timeout_ms)
            .end(),
        Step::Call {
            tokens: t,
            timeout_ms,
        } => o("call")
            .raw("tokens", &tokens(t))
            .num("timeoutMs", *timeout_ms)
            .end(),
        Step::Probe { url, timeout_ms } => o("probe")
            .str("url", url)
            .num("timeoutMs", *timeout_ms)
            .end(),
        Step::Announce { name, hold_ms } => o("announce")
            .str("name", name)
            .num("holdMs", *hold_ms)
            .end(),
        Step::Release => o("release").end(),
        Step::Done => o("done").end(),
    }
}

/// A report from the browser side; anything unreadable ends the run without spending
/// anything more.
pub fn parse_report(v: &Value, now_ms: f64) -> Report {
    let text = |name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let number = |name: &str| v.get(name).and_then(Value::as_f64);
    match v.get("r").and_then(Value::as_str).unwrap_or_default() {
        "start" => Report::Start,
        "ok" => Report::Ok,
        "locked" => Report::Locked,
        "lock-timeout" => Report::LockTimedOut,
        "no-locks" => Report::NoLocks,
        "lock-failed" => Report::LockFailed,
        "rotation" => rotation(v),
        "waited" => Report::Waited,
        "key" => text("jwk").map_or(Report::NoKey, Report::Key),
        "no-key" => Report::NoKey,
        "answer" => Report::Answer(HttpAnswer {
            status: number("status")
                .filter(|s| (0.0..1000.0).contains(s))
                .unwrap_or(0.0) as u16,
            date_ms: number("dateMs"),
            retry_after_ms: crate::oauth::retry_after_ms(
                text("retryAfter").as_deref(),
                number("retryAfterDateMs"),
                now_ms,
            ),
            dpop_nonce: text("dpopNonce"),
            body: text("body").unwrap_or_default(),
        }),
        "too-large" => Report::TooLarge,
        "network-error" => Report::NetworkError {
            online: v.get("online").and_then(Value::as_bool).unwrap_or(true),
        },
        "timeout" => Report::TimedOut,
        "callback-tokens" => Report::CallbackTokens(text("tokens").unwrap_or_default()),
        "callback-failed" => Report::CallbackFailed {
            error: text("error"),
            code: text("code"),
            status: number("status"),
        },
        "probed" => Report::Probed {
            cors_ok: v.get("corsOk").and_then(Value::as_bool).unwrap_or(false),
            reachable: v.get("reachable").and_then(Value::as_bool).unwrap_or(false),
        },
        _ => Report::Unknown,
    }
}

/// What a rotation query found (a `rotation` report, or a `locked` one that carries it).
fn rotation(v: &Value) -> Report {
    Report::Rotation {
        latest: v
            .get("latest")
            .and_then(Value::as_f64)
            .unwrap_or(f64::NEG_INFINITY),
        holds: v
            .get("holds")
            .and_then(Value::elements)
            .map(|holds| {
                let names = holds.iter().filter_map(Value::as_str);
                names.take(16).map(str::to_owned).collect()
            })
            .unwrap_or_default(),
    }
}

/// The rotation query a `locked` report answered along with it (see [`Step::Lock`]), if any.
pub fn parse_queried(v: &Value) -> Option<Report> {
    let locked = v.get("r").and_then(Value::as_str) == Some("locked");
    (locked && v.get("holds").is_some()).then(|| rotation(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::value;
    use crate::keeper::ChangeOrigin;

    #[test]
    fn outputs_are_json_the_facade_reads() {
        let list = [
            Output::Event(Event::Changed(ChangeOrigin::Set)),
            Output::Event(Event::Error(KeeperError::RefreshFailed, Some(3600.0), None)),
            Output::Post(TabMessage::Cleared(ClearReason::Idle)),
            Output::StartRefresh(7),
        ];
        let text = array(&list.iter().map(output).collect::<Vec<_>>());
        assert_eq!(
            text,
            r#"[{"t":"event","type":"changed","origin":"set"},{"t":"event","type":"error","code":"ERR_REFRESH_FAILED","message":"refreshing the tokens failed (network error, timeout or a server error); they are kept","retryAfterSeconds":3600},{"t":"post","message":{"type":"cleared","reason":"idle"}},{"t":"start","run":7}]"#
        );
        assert!(value::parse(&text).is_some());
    }

    #[test]
    fn tab_messages_round_trip_and_strangers_are_ignored() {
        let read = |text: &str| value::parse(text).and_then(|v| parse_tab_message(&v));
        for m in [
            TabMessage::Cleared(ClearReason::Logout),
            TabMessage::Activity(5.5),
        ] {
            assert_eq!(read(&tab_message(&m)), Some(m));
        }
        for other in [
            "{}",
            r#"{"type":"rotated","record":"x"}"#,
            r#"{"type":"cleared","reason":"x"}"#,
            "null",
            "{",
        ] {
            assert_eq!(read(other), None, "{other}");
        }
    }

    #[test]
    fn reports_are_read_and_garbage_ends_the_run() {
        let report = |text: &str| parse_report(&value::parse(text).unwrap_or(Value::Null), 0.0);
        let answer = report(
            r#"{"r":"answer","status":429,"retryAfter":"3","dateMs":1000,"dpopNonce":"n","body":"{}"}"#,
        );
        assert_eq!(
            answer,
            Report::Answer(HttpAnswer {
                status: 429,
                date_ms: Some(1000.0),
                retry_after_ms: Some(3000.0),
                dpop_nonce: Some("n".into()),
                body: "{}".into()
            })
        );
        assert_eq!(
            report(r#"{"r":"rotation"}"#),
            Report::Rotation {
                latest: f64::NEG_INFINITY,
                holds: vec![]
            }
        );
        assert_eq!(
            report(r#"{"r":"rotation","latest":5,"holds":["1:cors:9",7]}"#),
            Report::Rotation {
                latest: 5.0,
                holds: vec!["1:cors:9".into()]
            }
        );
        assert_eq!(report("garbage"), Report::Unknown);
        assert_eq!(report(r#"{"r":"who knows"}"#), Report::Unknown);
    }
}
