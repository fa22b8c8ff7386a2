//! Every message that crosses the boundary — the facade's calls (ops) and their results,
//! the keeper's outputs and events, refresh steps and the reports that answer them, and the
//! messages between tabs — described once: its kind's name and its members. The codec
//! (`crate::wire`, `crate::calls`) writes and reads exactly these, the tests below hold it to
//! them, and `js/generated/protocol.d.ts` is written from them, so that `tsc --checkJs` checks
//! the JavaScript executor and facade against the same names: a kind renamed on one side only
//! fails `npm test`.

/// One member of a message: its name, its TypeScript type, and whether it may be missing.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type, as TypeScript writes it (a primitive, or a type defined here).
    pub ts: &'static str,
    /// Whether the member may be absent.
    pub optional: bool,
}

/// One kind of message: the value of its tag member, and its other members.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The tag's value (`"lock"`, `"answer"`, ...); empty for a record without a tag.
    pub name: &'static str,
    /// The members besides the tag.
    pub members: &'static [Member],
    /// Another type defined here whose members this kind has too (an event inside an output).
    pub with: Option<&'static str>,
    /// What it is for.
    pub doc: &'static str,
}

/// A family of messages told apart by one tag member (or a single record, `tag` empty).
#[derive(Debug, Clone, Copy)]
pub struct Union {
    /// The TypeScript type's name.
    pub name: &'static str,
    /// The tag member (`"step"`, `"r"`, `"t"`, `"type"`, `"op"`), or empty for a record.
    pub tag: &'static str,
    /// The kinds.
    pub kinds: &'static [Kind],
    /// What it is for.
    pub doc: &'static str,
}

impl Union {
    /// The kind named `name`.
    pub fn kind(&self, name: &str) -> Option<&'static Kind> {
        self.kinds.iter().find(|k| k.name == name)
    }
}

const fn req(name: &'static str, ts: &'static str) -> Member {
    Member {
        name,
        ts,
        optional: false,
    }
}

const fn opt(name: &'static str, ts: &'static str) -> Member {
    Member {
        name,
        ts,
        optional: true,
    }
}

const fn kind(name: &'static str, doc: &'static str, members: &'static [Member]) -> Kind {
    Kind {
        name,
        members,
        with: None,
        doc,
    }
}

/// A refresh step for the browser side to carry out (`crate::refresh::Step`).
pub const STEP: Union = Union {
    name: "Step",
    tag: "step",
    doc: "A refresh step for the browser side to carry out (src/refresh.rs Step).",
    kinds: &[
        kind(
            "lock",
            "Take the exclusive lock, waiting at most timeoutMs; once held, ask as query-rotation does with these prefixes and report it with locked.",
            &[
                req("name", "string"),
                req("timeoutMs", "number"),
                req("prefix", "string"),
                req("holdPrefix", "string"),
            ],
        ),
        kind(
            "query-rotation",
            "Which rotation and which holds other tabs announced through held locks.",
            &[req("prefix", "string"), req("holdPrefix", "string")],
        ),
        kind(
            "wait",
            "Wait; with wakeOnOnline, end early when the browser comes back online.",
            &[req("ms", "number"), req("wakeOnOnline", "boolean")],
        ),
        kind("load-key", "Load or create the DPoP key pair.", &[]),
        kind(
            "send",
            "Send the token request (POST, no redirects, at most 1 MiB read).",
            &[
                req("url", "string"),
                req("body", "string"),
                opt("dpop", "string"),
                req("timeoutMs", "number"),
            ],
        ),
        kind(
            "call",
            "Call the app's refresh callback with these tokens.",
            &[req("tokens", "WireTokenSet"), req("timeoutMs", "number")],
        ),
        kind(
            "probe",
            "Whether the URL answers with CORS, and without.",
            &[req("url", "string"), req("timeoutMs", "number")],
        ),
        kind(
            "announce",
            "Hold the shared lock name for holdMs without waiting for it.",
            &[req("name", "string"), req("holdMs", "number")],
        ),
        kind("release", "Release the lock taken with lock.", &[]),
        kind("done", "The run is over.", &[]),
    ],
};

/// What the browser side's last step came to (`crate::refresh::Report`).
pub const REPORT: Union = Union {
    name: "Report",
    tag: "r",
    doc: "What the browser side's last step came to (src/refresh.rs Report).",
    kinds: &[
        kind("start", "Start the run.", &[]),
        kind("ok", "A step without a result is done.", &[]),
        kind(
            "locked",
            "The lock is held; with what the rotation query under the lock step's prefixes found.",
            &[opt("latest", "number"), opt("holds", "string[]")],
        ),
        kind("lock-timeout", "The lock was not granted in time.", &[]),
        kind("no-locks", "There are no Web Locks here.", &[]),
        kind(
            "lock-failed",
            "The lock request failed (the page is going away).",
            &[],
        ),
        kind(
            "rotation",
            "What the lock query found.",
            &[req("latest", "number"), req("holds", "string[]")],
        ),
        kind("waited", "The wait ended.", &[]),
        kind(
            "key",
            "The DPoP key pair's public JWK, as JSON.",
            &[req("jwk", "string")],
        ),
        kind("no-key", "No DPoP key can be had here.", &[]),
        kind(
            "answer",
            "The token endpoint answered.",
            &[
                req("status", "number"),
                opt("dateMs", "number"),
                opt("retryAfter", "string"),
                opt("retryAfterDateMs", "number"),
                opt("dpopNonce", "string"),
                req("body", "string"),
            ],
        ),
        kind("too-large", "The answer was over 1 MiB.", &[]),
        kind(
            "network-error",
            "The request failed at the network level.",
            &[req("online", "boolean")],
        ),
        kind(
            "timeout",
            "The request or callback took longer than its timeout.",
            &[],
        ),
        kind(
            "callback-tokens",
            "The app's refresh callback resolved: a token response, as JSON.",
            &[req("tokens", "string")],
        ),
        kind(
            "callback-failed",
            "The app's refresh callback threw.",
            &[
                opt("error", "string"),
                opt("code", "string"),
                opt("status", "number"),
            ],
        ),
        kind(
            "probed",
            "What the CORS probes found.",
            &[req("corsOk", "boolean"), req("reachable", "boolean")],
        ),
        kind(
            "unknown",
            "Carrying out the step threw: ends the run, with an error event.",
            &[],
        ),
    ],
};

/// A message between the tabs of an origin (`crate::keeper::TabMessage`).
pub const TAB_MESSAGE: Union = Union {
    name: "TabMessage",
    tag: "type",
    doc: "A message between the tabs of an origin, posted as this object (src/keeper/outbox.rs TabMessage).",
    kinds: &[
        kind(
            "cleared",
            "A tab signed out, for this reason.",
            &[req("reason", "ClearReason")],
        ),
        kind(
            "activity",
            "The user was active in a tab at this time (epoch ms).",
            &[req("at", "number")],
        ),
        kind(
            "held",
            "A tab holds refreshes back until this time (epoch ms; none: no end).",
            &[req("reason", "HoldReason"), opt("until", "number")],
        ),
    ],
};

/// An event for the app's listeners, as an output carries it (`crate::keeper::Event`).
pub const EVENT: Union = Union {
    name: "EventOutput",
    tag: "type",
    doc: "An event for the app's listeners, as an output carries it (src/keeper/outbox.rs Event).",
    kinds: &[
        kind(
            "changed",
            "Tokens changed.",
            &[req("origin", "ChangeOrigin")],
        ),
        kind("refreshing", "A refresh started in this tab.", &[]),
        kind("refreshed", "A refresh succeeded.", &[]),
        kind(
            "expired",
            "The access token expired with nothing fresher.",
            &[],
        ),
        kind("cleared", "Signed out.", &[req("reason", "ClearReason")]),
        kind(
            "error",
            "Something went wrong that threw nothing.",
            &[
                req("code", "TokenErrorCode"),
                req("message", "string"),
                opt("retryAfterSeconds", "number"),
                opt("status", "number"),
                opt("error", "string"),
                opt("errorDescription", "string"),
                opt("endpoint", "string"),
            ],
        ),
        kind(
            "idle-warning",
            "An idle sign-out comes in secondsLeft.",
            &[req("secondsLeft", "number")],
        ),
    ],
};

/// One thing for the browser side to do (`crate::keeper::Output`).
pub const OUTPUT: Union = Union {
    name: "Output",
    tag: "t",
    doc: "One thing for the browser side to do (src/keeper/outbox.rs Output).",
    kinds: &[
        Kind {
            name: "event",
            members: &[],
            with: Some("EventOutput"),
            doc: "Tell the app's listeners.",
        },
        kind(
            "post",
            "Tell the other tabs; sealed under secret (named spent) when they are given.",
            &[
                req("message", "TabMessage"),
                opt("spent", "string"),
                opt("secret", "string"),
            ],
        ),
        kind(
            "rotation",
            "Tell the tabs holding the spent refresh token about its rotation, sealed.",
            &[
                req("spent", "string"),
                req("secret", "string"),
                req("record", "string"),
            ],
        ),
        kind(
            "start",
            "Drive refresh run `run`, from its first steps (when missing, ask with advance and report start).",
            &[req("run", "number"), opt("steps", "Step[]")],
        ),
        kind(
            "interrupt",
            "End the wait of refresh run `run` now.",
            &[req("run", "number")],
        ),
        kind(
            "settle",
            "Settle the calls waiting for the refresh; refresh() callers wait on without `refresh`.",
            &[
                req("access", "AccessSettlement"),
                opt("refresh", "RefreshSettlement"),
            ],
        ),
        kind(
            "revoke",
            "Revoke at the server (RFC 7009).",
            &[
                req("url", "string"),
                req("body", "string"),
                opt("dpop", "string"),
            ],
        ),
        kind(
            "revoke-callback",
            "Call the app's revoke(tokens).",
            &[req("accessToken", "string"), opt("refreshToken", "string")],
        ),
        kind("forget-dpop-key", "Signed out: drop the DPoP key pair.", &[]),
    ],
};

/// How `getAccessToken()` callers settle.
pub const ACCESS_SETTLEMENT: Union = Union {
    name: "AccessSettlement",
    tag: "t",
    doc: "How getAccessToken() callers settle.",
    kinds: &[
        kind("token", "The token.", &[req("token", "string")]),
        kind("error", "Why none.", &[req("error", "ErrorReply")]),
    ],
};

/// How `refresh()` callers settle.
pub const REFRESH_SETTLEMENT: Union = Union {
    name: "RefreshSettlement",
    tag: "t",
    doc: "How refresh() callers settle.",
    kinds: &[
        kind(
            "result",
            "The new token's details.",
            &[req("result", "RefreshResult")],
        ),
        kind("error", "Why none.", &[req("error", "ErrorReply")]),
    ],
};

/// Records without a tag: what errors, token sets and results look like on the wire.
pub const RECORDS: &[(&str, &str, &[Member])] = &[
    (
        "ErrorReply",
        "An error as the facade turns it into a TokenError.",
        &[
            req("code", "TokenErrorCode"),
            req("message", "string"),
            opt("part", "string"),
            opt("claim", "string"),
            opt("status", "number"),
            opt("error", "string"),
            opt("errorDescription", "string"),
            opt("endpoint", "string"),
        ],
    ),
    (
        "WireTokenSet",
        "The tokens held, as the app's refresh callback receives them.",
        &[
            req("accessToken", "string"),
            opt("refreshToken", "string"),
            opt("idToken", "string"),
            opt("expiresIn", "number"),
            req("tokenType", "TokenType"),
        ],
    ),
    (
        "RefreshResult",
        "What refresh() resolves to: never the refresh token.",
        &[
            req("accessToken", "string"),
            opt("idToken", "string"),
            opt("expiresAt", "number"),
            req("tokenType", "TokenType"),
        ],
    ),
    (
        "KeeperState",
        "What the facade's getters and set-up read (never the refresh token).",
        &[
            req("storageKind", "\"session\" | \"local\" | \"memory\""),
            opt("accessToken", "string"),
            opt("expiresAt", "number"),
            opt("nextRefreshAt", "number"),
            opt("tokenType", "TokenType"),
            opt("dpopThumbprint", "string"),
            req("storageKey", "string"),
            req("namespace", "string"),
            req("crossTab", "boolean"),
            req("dpop", "boolean"),
            req("requestTimeoutMs", "number"),
        ],
    ),
    (
        "FetchAuthorization",
        "The Authorization for one keeper.fetch request.",
        &[
            req("header", "string"),
            req("version", "number"),
            opt("dpop", "string"),
            req("follow", "boolean"),
        ],
    ),
];

/// Name sets written as string unions: (TypeScript name, the names).
pub fn name_sets() -> Vec<(&'static str, Vec<&'static str>)> {
    use crate::keeper::{ChangeOrigin, Hold};
    use crate::record::ClearReason;
    use crate::tokens::TokenType;
    vec![
        (
            "ClearReason",
            [
                ClearReason::Logout,
                ClearReason::InvalidGrant,
                ClearReason::Idle,
                ClearReason::MaxSession,
            ]
            .map(ClearReason::as_str)
            .to_vec(),
        ),
        (
            "HoldReason",
            [Hold::GaveUp, Hold::RetryAfter, Hold::Cors, Hold::Config]
                .map(Hold::as_str)
                .to_vec(),
        ),
        (
            "ChangeOrigin",
            [
                ChangeOrigin::Set,
                ChangeOrigin::Restore,
                ChangeOrigin::OtherTab,
                ChangeOrigin::Refresh,
            ]
            .map(ChangeOrigin::as_str)
            .to_vec(),
        ),
        (
            "TokenType",
            [TokenType::Bearer, TokenType::DPoP]
                .map(TokenType::as_str)
                .to_vec(),
        ),
    ]
}

/// The facade's calls into the keeper (`crate::calls`): each op's arguments (besides `op`
/// and `now`) and the type of its result (`r`), if it has one.
pub const OPS: &[(&str, &[Member], Option<&str>)] = &[
    (
        "setTokens",
        &[
            req("tokens", "Record<string, unknown> | null"),
            req("remember", "boolean"),
        ],
        None,
    ),
    ("access", &[], Some("{ token: string } | { wait: true }")),
    ("refresh", &[], None),
    ("clear", &[req("revoke", "boolean")], None),
    ("touch", &[], None),
    ("tick", &[], None),
    ("wake", &[], None),
    (
        "advance",
        &[req("run", "number"), req("report", "Report")],
        Some("Step[]"),
    ),
    ("storageChanged", &[], None),
    (
        "tabMessage",
        &[req("message", "object"), req("sealed", "boolean")],
        None,
    ),
    ("rotationSecret", &[req("spent", "string")], Some("string")),
    (
        "rotation",
        &[req("spent", "string"), req("record", "string")],
        None,
    ),
    (
        "mayFetch",
        &[req("href", "string"), opt("method", "string")],
        Some("boolean"),
    ),
    (
        "authorize",
        &[
            req("href", "string"),
            req("method", "string"),
            req("token", "string"),
        ],
        Some("FetchAuthorization"),
    ),
    (
        "afterResponse",
        &[
            req("href", "string"),
            req("status", "number"),
            req("version", "number"),
            opt("wwwAuthenticate", "string"),
            opt("dpopNonce", "string"),
            req("replayable", "boolean"),
            req("nonceRetried", "boolean"),
        ],
        Some("\"return\" | \"nonce\" | \"refresh\""),
    ),
    ("dpopKey", &[req("jwk", "string")], None),
    (
        "dpopProofInput",
        &[
            req("method", "string"),
            req("href", "string"),
            opt("nonce", "string"),
            opt("accessToken", "string"),
        ],
        Some("string"),
    ),
    ("revocationFailed", &[], None),
    ("state", &[], Some("KeeperState")),
    ("idToken", &[], Some("string")),
];

/// Every tagged union, in the order the TypeScript file defines them.
pub const UNIONS: &[&Union] = &[
    &STEP,
    &REPORT,
    &TAB_MESSAGE,
    &EVENT,
    &OUTPUT,
    &ACCESS_SETTLEMENT,
    &REFRESH_SETTLEMENT,
];
