// Generated from src/protocol/schema.rs by `TOKENKEEPER_WRITE_GENERATED=1 cargo test --lib protocol`.
// The messages between the keeper (Rust) and the facade (JavaScript), and between tabs.

import type { TokenErrorCode } from "./constants.js";

export type ClearReason = "logout" | "invalid_grant" | "idle" | "max_session";

export type HoldReason = "gave-up" | "retry-after" | "cors" | "config";

export type ChangeOrigin = "set" | "restore" | "other-tab" | "refresh";

export type TokenType = "Bearer" | "DPoP";

/** A refresh step for the browser side to carry out (src/refresh.rs Step). */
export type Step =
  /** Take the exclusive lock, waiting at most timeoutMs; once held, ask as query-rotation does with these prefixes and report it with locked. */
  | { step: "lock"; name: string; timeoutMs: number; prefix: string; holdPrefix: string; }
  /** Which rotation and which holds other tabs announced through held locks. */
  | { step: "query-rotation"; prefix: string; holdPrefix: string; }
  /** Wait; with wakeOnOnline, end early when the browser comes back online. */
  | { step: "wait"; ms: number; wakeOnOnline: boolean; }
  /** Load or create the DPoP key pair. */
  | { step: "load-key"; }
  /** Send the token request (POST, no redirects, at most 1 MiB read). */
  | { step: "send"; url: string; body: string; dpop?: string; timeoutMs: number; }
  /** Call the app's refresh callback with these tokens. */
  | { step: "call"; tokens: WireTokenSet; timeoutMs: number; }
  /** Whether the URL answers with CORS, and without. */
  | { step: "probe"; url: string; timeoutMs: number; }
  /** Hold the shared lock name for holdMs without waiting for it. */
  | { step: "announce"; name: string; holdMs: number; }
  /** Release the lock taken with lock. */
  | { step: "release"; }
  /** The run is over. */
  | { step: "done"; }
;
/** The `step` of a Step. */
export type StepKind = Step["step"];

/** What the browser side's last step came to (src/refresh.rs Report). */
export type Report =
  /** Start the run. */
  | { r: "start"; }
  /** A step without a result is done. */
  | { r: "ok"; }
  /** The lock is held; with what the rotation query under the lock step's prefixes found. */
  | { r: "locked"; latest?: number; holds?: string[]; }
  /** The lock was not granted in time. */
  | { r: "lock-timeout"; }
  /** There are no Web Locks here. */
  | { r: "no-locks"; }
  /** The lock request failed (the page is going away). */
  | { r: "lock-failed"; }
  /** What the lock query found. */
  | { r: "rotation"; latest: number; holds: string[]; }
  /** The wait ended. */
  | { r: "waited"; }
  /** The DPoP key pair's public JWK, as JSON. */
  | { r: "key"; jwk: string; }
  /** No DPoP key can be had here. */
  | { r: "no-key"; }
  /** The token endpoint answered. */
  | { r: "answer"; status: number; dateMs?: number; retryAfter?: string; retryAfterDateMs?: number; dpopNonce?: string; body: string; }
  /** The answer was over 1 MiB. */
  | { r: "too-large"; }
  /** The request failed at the network level. */
  | { r: "network-error"; online: boolean; }
  /** The request or callback took longer than its timeout. */
  | { r: "timeout"; }
  /** The app's refresh callback resolved: a token response, as JSON. */
  | { r: "callback-tokens"; tokens: string; }
  /** The app's refresh callback threw. */
  | { r: "callback-failed"; error?: string; code?: string; status?: number; }
  /** What the CORS probes found. */
  | { r: "probed"; corsOk: boolean; reachable: boolean; }
  /** Carrying out the step threw: ends the run, with an error event. */
  | { r: "unknown"; }
;
/** The `r` of a Report. */
export type ReportKind = Report["r"];

/** A message between the tabs of an origin, posted as this object (src/keeper/outbox.rs TabMessage). */
export type TabMessage =
  /** A tab signed out, for this reason. */
  | { type: "cleared"; reason: ClearReason; }
  /** The user was active in a tab at this time (epoch ms). */
  | { type: "activity"; at: number; }
  /** A tab holds refreshes back until this time (epoch ms; none: no end). */
  | { type: "held"; reason: HoldReason; until?: number; }
;
/** The `type` of a TabMessage. */
export type TabMessageKind = TabMessage["type"];

/** An event for the app's listeners, as an output carries it (src/keeper/outbox.rs Event). */
export type EventOutput =
  /** Tokens changed. */
  | { type: "changed"; origin: ChangeOrigin; }
  /** A refresh started in this tab. */
  | { type: "refreshing"; }
  /** A refresh succeeded. */
  | { type: "refreshed"; }
  /** The access token expired with nothing fresher. */
  | { type: "expired"; }
  /** Signed out. */
  | { type: "cleared"; reason: ClearReason; }
  /** Something went wrong that threw nothing. */
  | { type: "error"; code: TokenErrorCode; message: string; retryAfterSeconds?: number; status?: number; error?: string; errorDescription?: string; endpoint?: string; }
  /** An idle sign-out comes in secondsLeft. */
  | { type: "idle-warning"; secondsLeft: number; }
;
/** The `type` of a EventOutput. */
export type EventOutputKind = EventOutput["type"];

/** One thing for the browser side to do (src/keeper/outbox.rs Output). */
export type Output =
  /** Tell the app's listeners. */
  | ({ t: "event"; } & EventOutput)
  /** Tell the other tabs; sealed under secret (named spent) when they are given. */
  | { t: "post"; message: TabMessage; spent?: string; secret?: string; }
  /** Tell the tabs holding the spent refresh token about its rotation, sealed. */
  | { t: "rotation"; spent: string; secret: string; record: string; }
  /** Drive refresh run `run`, from its first steps (when missing, ask with advance and report start). */
  | { t: "start"; run: number; steps?: Step[]; }
  /** End the wait of refresh run `run` now. */
  | { t: "interrupt"; run: number; }
  /** Settle the calls waiting for the refresh; refresh() callers wait on without `refresh`. */
  | { t: "settle"; access: AccessSettlement; refresh?: RefreshSettlement; }
  /** Revoke at the server (RFC 7009). */
  | { t: "revoke"; url: string; body: string; dpop?: string; }
  /** Call the app's revoke(tokens). */
  | { t: "revoke-callback"; accessToken: string; refreshToken?: string; }
  /** Signed out: drop the DPoP key pair. */
  | { t: "forget-dpop-key"; }
;
/** The `t` of a Output. */
export type OutputKind = Output["t"];

/** How getAccessToken() callers settle. */
export type AccessSettlement =
  /** The token. */
  | { t: "token"; token: string; }
  /** Why none. */
  | { t: "error"; error: ErrorReply; }
;
/** The `t` of a AccessSettlement. */
export type AccessSettlementKind = AccessSettlement["t"];

/** How refresh() callers settle. */
export type RefreshSettlement =
  /** The new token's details. */
  | { t: "result"; result: RefreshResult; }
  /** Why none. */
  | { t: "error"; error: ErrorReply; }
;
/** The `t` of a RefreshSettlement. */
export type RefreshSettlementKind = RefreshSettlement["t"];

/** An error as the facade turns it into a TokenError. */
export interface ErrorReply { code: TokenErrorCode; message: string; part?: string; claim?: string; status?: number; error?: string; errorDescription?: string; endpoint?: string; }

/** The tokens held, as the app's refresh callback receives them. */
export interface WireTokenSet { accessToken: string; refreshToken?: string; idToken?: string; expiresIn?: number; tokenType: TokenType; }

/** What refresh() resolves to: never the refresh token. */
export interface RefreshResult { accessToken: string; idToken?: string; expiresAt?: number; tokenType: TokenType; }

/** What the facade's getters and set-up read (never the refresh token). */
export interface KeeperState { storageKind: "session" | "local" | "memory"; accessToken?: string; expiresAt?: number; nextRefreshAt?: number; tokenType?: TokenType; dpopThumbprint?: string; storageKey: string; namespace: string; crossTab: boolean; dpop: boolean; requestTimeoutMs: number; }

/** The Authorization for one keeper.fetch request. */
export interface FetchAuthorization { header: string; version: number; dpop?: string; follow: boolean; }

/** Each op's arguments, besides `op` and `now`. */
export interface OpArgs {
  setTokens: { tokens: Record<string, unknown> | null; remember: boolean; };
  access: { };
  refresh: { };
  clear: { revoke: boolean; };
  touch: { };
  tick: { };
  wake: { };
  advance: { run: number; report: Report; };
  storageChanged: { };
  tabMessage: { message: object; sealed: boolean; };
  rotationSecret: { spent: string; };
  rotation: { spent: string; record: string; };
  mayFetch: { href: string; method?: string; };
  authorize: { href: string; method: string; token: string; };
  afterResponse: { href: string; status: number; version: number; wwwAuthenticate?: string; dpopNonce?: string; replayable: boolean; nonceRetried: boolean; };
  dpopKey: { jwk: string; };
  dpopProofInput: { method: string; href: string; nonce?: string; accessToken?: string; };
  revocationFailed: { };
  state: { };
  idToken: { };
}

/** Each op's result (`r`). */
export interface OpResults {
  setTokens: undefined;
  access: { token: string } | { wait: true };
  refresh: undefined;
  clear: undefined;
  touch: undefined;
  tick: undefined;
  wake: undefined;
  advance: Step[];
  storageChanged: undefined;
  tabMessage: undefined;
  rotationSecret: string;
  rotation: undefined;
  mayFetch: boolean;
  authorize: FetchAuthorization;
  afterResponse: "return" | "nonce" | "refresh";
  dpopKey: undefined;
  dpopProofInput: string;
  revocationFailed: undefined;
  state: KeeperState;
  idToken: string;
}

/** The name of an op. */
export type OpName = keyof OpArgs;

/** The keeper's reply to one call. */
export interface Reply<R> { v: "1"; r?: R; e?: ErrorReply; out?: Output[]; s?: KeeperState; wake?: number }
