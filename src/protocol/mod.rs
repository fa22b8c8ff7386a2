//! The protocol between the keeper and its surroundings, described once ([`schema`]) and
//! turned into the JavaScript side's types ([`typescript`]). The codec that writes and reads
//! these messages is [`crate::wire`] (outputs, steps, reports, tab messages) and
//! [`crate::calls`] (the facade's calls); the tests here hold it to the schema in both
//! directions, so a name changed on one side only fails.

pub mod check;
pub mod request;
pub mod schema;
pub mod typescript;

#[cfg(test)]
mod conformance {
    use super::check::{check, check_union};
    use super::schema::{name_sets, Union, ACCESS_SETTLEMENT, EVENT, OPS, OUTPUT};
    use super::schema::{REFRESH_SETTLEMENT, REPORT, STEP, TAB_MESSAGE};
    use crate::diagnostics::{Cause, RefreshDetail};
    use crate::error::KeeperError;
    use crate::json::value::{self, Value};
    use crate::keeper::{ChangeOrigin, Event, Hold, Output, Revocation, TabMessage};
    use crate::record::ClearReason;
    use crate::refresh::{RefreshResult, Report, Settlement, Step, TokenRequest};
    use crate::tokens::{TokenSet, TokenType};
    use crate::wire;

    /// Checks each written message against `union`; returns the kinds seen.
    fn written(union: &Union, texts: &[String]) -> Vec<String> {
        texts
            .iter()
            .map(|text| {
                let v = value::parse(text).unwrap_or_else(|| panic!("not JSON: {text}"));
                check_union(&v, union).unwrap_or_else(|e| panic!("{e}: {text}"));
                v.get(union.tag).and_then(Value::as_str).unwrap().to_owned()
            })
            .collect()
    }

    fn assert_every_kind_seen(union: &Union, seen: &[String]) {
        for kind in union.kinds {
            assert!(
                seen.iter().any(|s| s == kind.name),
                "{} {:?} is in the schema but the codec never writes it",
                union.name,
                kind.name
            );
        }
    }

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            id_token: Some("i".into()),
            expires_in: Some(60.0),
            token_type: TokenType::Bearer,
        }
    }

    /// One of every step (a new variant fails to compile in `cover` until it is added here).
    fn every_step() -> Vec<Step> {
        let steps = vec![
            Step::Lock {
                name: "l".into(),
                timeout_ms: 1.0,
                prefix: "p".into(),
                hold_prefix: "h".into(),
            },
            Step::QueryRotation {
                prefix: "p".into(),
                hold_prefix: "h".into(),
            },
            Step::Wait {
                ms: 1.0,
                wake_on_online: true,
            },
            Step::LoadKey,
            Step::Send(TokenRequest {
                url: "u".into(),
                body: "b".into(),
                dpop_signing_input: Some("d".into()),
                timeout_ms: 1.0,
            }),
            Step::Call {
                tokens: tokens(),
                timeout_ms: 1.0,
            },
            Step::Probe {
                url: "u".into(),
                timeout_ms: 1.0,
            },
            Step::Announce {
                name: "n".into(),
                hold_ms: 1.0,
            },
            Step::Release,
            Step::Done,
        ];
        for s in &steps {
            match s {
                Step::Lock { .. }
                | Step::QueryRotation { .. }
                | Step::Wait { .. }
                | Step::LoadKey
                | Step::Send(_)
                | Step::Call { .. }
                | Step::Probe { .. }
                | Step::Announce { .. }
                | Step::Release
                | Step::Done => {}
            }
        }
        steps
    }

    fn every_event() -> Vec<Event> {
        let events = vec![
            Event::Changed(ChangeOrigin::OtherTab),
            Event::Refreshing,
            Event::Refreshed,
            Event::Expired,
            Event::Cleared(ClearReason::Idle),
            Event::Error(KeeperError::RefreshFailed, Some(3.0), None),
            Event::Error(
                KeeperError::RefreshConfig,
                None,
                Some(Box::new(RefreshDetail::answered(
                    "https://id.example/token?x",
                    401,
                    r#"{"error":"invalid_client","error_description":"who?"}"#,
                    &[],
                ))),
            ),
            Event::IdleWarning(5.0),
        ];
        for e in &events {
            match e {
                Event::Changed(_)
                | Event::Refreshing
                | Event::Refreshed
                | Event::Expired
                | Event::Cleared(_)
                | Event::Error(..)
                | Event::IdleWarning(_) => {}
            }
        }
        events
    }

    fn every_tab_message() -> Vec<TabMessage> {
        let messages = vec![
            TabMessage::Cleared(ClearReason::Logout),
            TabMessage::Activity(5.0),
            TabMessage::Held(Hold::RetryAfter, 9.0),
            TabMessage::Held(Hold::Cors, f64::INFINITY),
        ];
        for m in &messages {
            match m {
                TabMessage::Cleared(_) | TabMessage::Activity(_) | TabMessage::Held(..) => {}
            }
        }
        messages
    }

    fn every_output() -> Vec<Output> {
        let result = RefreshResult {
            access_token: "a".into(),
            id_token: None,
            expires_at: Some(9.0),
            token_type: TokenType::DPoP,
        };
        let mut outputs: Vec<Output> = every_event().into_iter().map(Output::Event).collect();
        outputs.extend(every_tab_message().into_iter().map(Output::Post));
        outputs.extend([
            Output::PostSealed {
                message: TabMessage::Activity(1.0),
                spent: "s".into(),
                secret: "r".into(),
            },
            Output::PostRotation {
                spent: "s".into(),
                secret: "r".into(),
                record: "{}".into(),
            },
            Output::StartRefresh(1),
            Output::Interrupt(1),
            Output::Settle(Settlement {
                access: Ok("a".into()),
                refresh: Some(Ok(result)),
                detail: None,
            }),
            Output::Settle(Settlement {
                access: Err(KeeperError::RefreshFailed),
                refresh: Some(Err(KeeperError::RefreshFailed)),
                detail: Some(RefreshDetail::at(
                    Some("https://id.example/token"),
                    Cause::TimedOut,
                )),
            }),
            Output::Settle(Settlement {
                access: Err(KeeperError::NoToken),
                refresh: None,
                detail: None,
            }),
            Output::Revoke(Revocation::Endpoint {
                url: "u".into(),
                body: "b".into(),
                dpop_signing_input: None,
            }),
            Output::Revoke(Revocation::Callback {
                refresh_token: Some("r".into()),
                access_token: "a".into(),
            }),
            Output::ForgetDpopKey,
        ]);
        for o in &outputs {
            match o {
                Output::Event(_)
                | Output::Post(_)
                | Output::PostSealed { .. }
                | Output::PostRotation { .. }
                | Output::StartRefresh(_)
                | Output::Interrupt(_)
                | Output::Settle(_)
                | Output::Revoke(_)
                | Output::ForgetDpopKey => {}
            }
        }
        outputs
    }

    /// A value of the TypeScript type `ts` for a sample message, as JSON.
    fn sample(ts: &str) -> String {
        match ts {
            "string" => "\"x\"".into(),
            "number" => "1".into(),
            "boolean" => "true".into(),
            "string[]" => "[\"cors:1\"]".into(),
            "Report" => r#"{"r":"ok"}"#.into(),
            _ => match name_sets().into_iter().find(|n| n.0 == ts) {
                Some((_, names)) => format!("\"{}\"", names[0]),
                None => "{}".into(),
            },
        }
    }

    /// A message of `kind` of `union` with every member, as JSON.
    fn sample_message(union: &Union, kind: &str) -> String {
        let k = union.kind(kind).unwrap();
        let mut text = format!("{{\"{}\":\"{}\"", union.tag, kind);
        for m in k.members {
            text.push_str(&format!(",\"{}\":{}", m.name, sample(m.ts)));
        }
        text.push('}');
        text
    }

    #[test]
    fn every_step_the_codec_writes_is_in_the_schema_and_every_kind_is_written() {
        let texts: Vec<String> = every_step().iter().map(wire::step).collect();
        assert_every_kind_seen(&STEP, &written(&STEP, &texts));
    }

    #[test]
    fn every_output_and_event_the_codec_writes_is_in_the_schema_and_every_kind_is_written() {
        let mut texts: Vec<String> = every_output().iter().map(wire::output).collect();
        // A run as the facade's calls start it: with its first steps.
        texts.push(wire::start(1, &every_step()));
        assert_every_kind_seen(&OUTPUT, &written(&OUTPUT, &texts));
        // Events were checked inside their outputs; which kinds were written:
        let events: Vec<String> = texts
            .iter()
            .filter_map(|t| value::parse(t))
            .filter(|v| v.get("t").and_then(Value::as_str) == Some("event"))
            .map(|v| v.get("type").and_then(Value::as_str).unwrap().to_owned())
            .collect();
        assert_every_kind_seen(&EVENT, &events);
        let settlements: Vec<Value> = texts
            .iter()
            .filter_map(|t| value::parse(t))
            .filter(|v| v.get("t").and_then(Value::as_str) == Some("settle"))
            .collect();
        let kinds = |member: &str, union: &Union| -> Vec<String> {
            settlements
                .iter()
                .filter_map(|s| s.get(member))
                .map(|v| v.get(union.tag).and_then(Value::as_str).unwrap().to_owned())
                .collect()
        };
        assert_every_kind_seen(&ACCESS_SETTLEMENT, &kinds("access", &ACCESS_SETTLEMENT));
        assert_every_kind_seen(&REFRESH_SETTLEMENT, &kinds("refresh", &REFRESH_SETTLEMENT));
    }

    #[test]
    fn every_tab_message_is_written_as_the_schema_says_and_read_back() {
        let texts: Vec<String> = every_tab_message().iter().map(wire::tab_message).collect();
        assert_every_kind_seen(&TAB_MESSAGE, &written(&TAB_MESSAGE, &texts));
        for kind in TAB_MESSAGE.kinds {
            let text = sample_message(&TAB_MESSAGE, kind.name);
            let v = value::parse(&text).unwrap();
            assert!(wire::parse_tab_message(&v).is_some(), "not read: {text}");
        }
    }

    #[test]
    fn every_report_in_the_schema_is_read_as_its_own_kind() {
        for kind in REPORT.kinds {
            let text = sample_message(&REPORT, kind.name);
            let report = wire::parse_report(&value::parse(&text).unwrap(), 0.0);
            assert_eq!(
                report == Report::Unknown,
                kind.name == "unknown",
                "{text} read as {report:?}"
            );
        }
        // The lock's report carries the rotation query it answered along with it.
        let locked = value::parse(&sample_message(&REPORT, "locked")).unwrap();
        assert_eq!(
            wire::parse_queried(&locked),
            Some(Report::Rotation {
                latest: 1.0,
                holds: vec!["cors:1".into()]
            })
        );
        let stranger = value::parse(r#"{"r":"lokced"}"#).unwrap();
        assert_eq!(wire::parse_report(&stranger, 0.0), Report::Unknown);
    }

    #[test]
    fn every_op_in_the_schema_is_dispatched_and_its_result_fits() {
        use crate::keeper::{Keeper, KeeperConfig};
        use crate::store::StoreError;
        for (op, args, result) in OPS {
            let mut k = Keeper::new(
                KeeperConfig::default(),
                Err(StoreError::Unavailable),
                Err(StoreError::Unavailable),
                0.0,
            );
            let mut request = format!("{{\"op\":\"{op}\",\"now\":1");
            for m in *args {
                request.push_str(&format!(",\"{}\":{}", m.name, sample(m.ts)));
            }
            request.push('}');
            let reply = crate::calls::call(&mut k, &request);
            assert!(
                !reply.contains("unknown keeper call"),
                "{op} is not dispatched"
            );
            let v = value::parse(&reply).unwrap();
            if let (Some(r), Some(ts)) = (v.get("r"), result) {
                check(r, ts).unwrap_or_else(|e| panic!("{op}: {e}: {reply}"));
            }
            if let Some(state) = v.get("s") {
                check(state, "KeeperState").unwrap_or_else(|e| panic!("{op}: {e}: {reply}"));
            }
        }
        let mut k = Keeper::new(
            KeeperConfig::default(),
            Err(StoreError::Unavailable),
            Err(StoreError::Unavailable),
            0.0,
        );
        let reply = crate::calls::call(&mut k, r#"{"op":"acess","now":1}"#);
        assert!(reply.contains("unknown keeper call"), "{reply}");
    }
}
