// Compiled with `tsc --noEmit --strict` against the installed package (tests/.scratch, DOM lib):
// the shipped types must describe the whole public API of `tokenkeeper`, `tokenkeeper/decode`
// and `tokenkeeper/testing` — every function, every option and every event is used below — and
// reject misuse (the @ts-expect-error lines, each of which must be an error).
// tokenkeeper/react and tokenkeeper/vue: tests/types/frameworks.ts.
import init, {
  decodeHeader,
  decodeJwt,
  expiresAt,
  initSync,
  isExpired,
  secondsUntilExpiry,
  TokenError,
  TokenKeeper,
  type ClearReason,
  type CurrentTokens,
  type ExpiryOptions,
  type InitInput,
  type JwtHeader,
  type JwtPayload,
  type KeeperEvent,
  type KeeperEventMap,
  type KeeperOptions,
  type RefreshResult,
  type StorageKind,
  type TokenErrorCode,
  type TokenResponse,
  type TokenSet,
} from "tokenkeeper";
import initDecode, * as decodeOnly from "tokenkeeper/decode";
import {
  makeJwt,
  startTestIssuer,
  testJwks,
  type DpopMode,
  type FailureKind,
  type FailureOptions,
  type IssuerStats,
  type JwkSet,
  type MakeJwtOptions,
  type PublicJwk,
  type RequestRecord,
  type SessionInfo,
  type SignInOptions,
  type TestIssuer,
  type TestIssuerOptions,
  type TokenResponse as IssuerTokenResponse,
} from "tokenkeeper/testing";

// ---- init ------------------------------------------------------------------------------------

await init();
await init("/assets/tokenkeeper_bg.wasm");
await init(new URL("https://cdn.example.com/tokenkeeper_bg.wasm"));
await init(fetch("/assets/tokenkeeper_bg.wasm"));
await init(new Uint8Array(8));
await init(new ArrayBuffer(8));
const input: InitInput = await WebAssembly.compile(new Uint8Array(8));
await init(input);
initSync(new Uint8Array(8));
initSync(new WebAssembly.Module(new Uint8Array(8)));

// ---- Decoding ----------------------------------------------------------------------------------

const token: string = "a.b.c";

const payload: JwtPayload = decodeJwt(token);
const exp: number | undefined = payload.exp;
const aud: string | string[] | undefined = payload.aud;
const registered: [string | undefined, string | undefined, number | undefined, number | undefined, string | undefined] =
  [payload.iss, payload.sub, payload.nbf, payload.iat, payload.jti];
const custom: unknown = payload.tenant;
const header: JwtHeader = decodeHeader(token);
const alg: string | undefined = header.alg;
const headerParams: [string | undefined, string | undefined, string | undefined] = [header.typ, header.kid, header.cty];

interface MyClaims extends JwtPayload {
  roles: string[];
}
const mine = decodeJwt<MyClaims>(token);
const roles: string[] = mine.roles;
const myHeader = decodeHeader<JwtHeader & { x5t: string }>(token);
const x5t: string = myHeader.x5t;

const at: number | undefined = expiresAt(token);
const expired: boolean = isExpired(token, { leewaySeconds: 30, now: Date.now() });
const expiredNow: boolean = isExpired(token);
const expiry: ExpiryOptions = { now: new Date() };
const left: number | undefined = secondsUntilExpiry(token, expiry);
const leftNow: number | undefined = secondsUntilExpiry(token);

// tokenkeeper/decode: the same functions and error, with a module of its own.
await initDecode();
await initDecode(new URL("https://cdn.example.com/tokenkeeper_decode_bg.wasm"));
decodeOnly.initSync(new Uint8Array(8));
const decodedOnly: JwtPayload = decodeOnly.decodeJwt(token);
const headerOnly: JwtHeader = decodeOnly.decodeHeader(token);
const expOnly: number | undefined = decodeOnly.expiresAt(token);
const expiredOnly: boolean = decodeOnly.isExpired(token, { leewaySeconds: 5 });
const leftOnly: number | undefined = decodeOnly.secondsUntilExpiry(token, { now: 0 });
const decodeError: decodeOnly.TokenError = new decodeOnly.TokenError("ERR_TOKEN_JSON", "not JSON", { part: "payload" });
const decodeCode: decodeOnly.TokenErrorCode = decodeError.code;

// @ts-expect-error a token is a string
decodeJwt(42);
// @ts-expect-error leewaySeconds is a number
isExpired(token, { leewaySeconds: "30" });
// @ts-expect-error now is epoch milliseconds or a Date
secondsUntilExpiry(token, { now: "2024-01-01" });
// @ts-expect-error exp may be absent
decodeJwt(token).exp.toFixed();
// @ts-expect-error the decode entry has no keeper
new decodeOnly.TokenKeeper();

// ---- Errors ------------------------------------------------------------------------------------

try {
  decodeJwt(token);
} catch (e) {
  if (e instanceof TokenError) {
    const code: TokenErrorCode = e.code;
    const name: "TokenError" = e.name;
    const part: "header" | "payload" | "signature" | undefined = e.part;
    const claim: "exp" | "nbf" | "iat" | undefined = e.claim;
    if (e.code === "ERR_TOKEN_EXPIRED" || e.code === "ERR_REFRESH_CORS") console.log(code, name, part, claim);
    // The facts behind a refresh error (API §6).
    const facts: [number | undefined, string | undefined, string | undefined, string | undefined] = [
      e.status,
      e.error,
      e.errorDescription,
      e.endpoint,
    ];
    if (e.code === "ERR_REFRESH_CONFIG" && e.error === "invalid_client") console.log(facts);
    // @ts-expect-error TokenError.code is one of the package's codes
    if (e.code === "ERR_TOKEN_EXPIRD") console.log(e.message);
    // @ts-expect-error a TokenError's properties are read-only
    e.code = "ERR_NO_TOKEN";
  }
}
const everyCode: Record<TokenErrorCode, true> = {
  ERR_CLAIM_TYPE: true,
  ERR_DISPOSED: true,
  ERR_DPOP_NOT_BOUND: true,
  ERR_DPOP_UNAVAILABLE: true,
  ERR_FETCH_NOT_ALLOWED: true,
  ERR_ISOLATION_UNAVAILABLE: true,
  ERR_INIT_FAILED: true,
  ERR_INVALID_ARGUMENT: true,
  ERR_INVALID_GRANT: true,
  ERR_NOT_INITIALIZED: true,
  ERR_NO_TOKEN: true,
  ERR_NO_REFRESH_TOKEN: true,
  ERR_RECORD_CORRUPT: true,
  ERR_RECORD_FOREIGN: true,
  ERR_RECORD_VERSION: true,
  ERR_REFRESH_CONFIG: true,
  ERR_REFRESH_CORS: true,
  ERR_REFRESH_FAILED: true,
  ERR_REFRESH_REJECTED: true,
  ERR_REFRESH_TIMEOUT: true,
  ERR_REFRESH_UNAVAILABLE: true,
  ERR_REVOCATION_FAILED: true,
  ERR_STORAGE_BLOCKED: true,
  ERR_STORAGE_FAILED: true,
  ERR_STORAGE_QUOTA: true,
  ERR_STORAGE_UNAVAILABLE: true,
  ERR_TOKEN_BASE64: true,
  ERR_TOKEN_ENCRYPTED: true,
  ERR_TOKEN_EXPIRED: true,
  ERR_TOKEN_JSON: true,
  ERR_TOKEN_MALFORMED: true,
  ERR_TOKEN_NOT_OBJECT: true,
  ERR_TOKEN_UTF8: true,
};
const made = new TokenError("ERR_CLAIM_TYPE", "exp is not a number", { part: "payload", claim: "exp", cause: 1 });
// @ts-expect-error not a code of the package
new TokenError("ERR_SOMETHING", "message");
// @ts-expect-error ERR_CLAIM_TYPE names a time claim
new TokenError("ERR_CLAIM_TYPE", "message", { claim: "aud" });

// ---- TokenKeeper: every option -----------------------------------------------------------------

// Required<...>: leaving any option out is an error here.
const oauthOptions: Required<NonNullable<KeeperOptions["oauth"]>> = {
  tokenEndpoint: "https://id.example.com/token",
  clientId: "spa",
  scope: "openid offline_access",
  extraParams: { audience: "api" },
  revocationEndpoint: "https://id.example.com/revoke",
};
const retryOptions: Required<NonNullable<KeeperOptions["retry"]>> = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};
const options: Required<KeeperOptions> = {
  namespace: "app",
  isolation: "page",
  workerUrl: "/assets/tokenkeeper-worker.js",
  storage: "local",
  refresh: async (current: CurrentTokens) => {
    const sent: [string, string | undefined, string | undefined, number | undefined, "Bearer" | "DPoP"] = [
      current.accessToken,
      current.refreshToken,
      current.idToken,
      current.expiresIn,
      current.tokenType,
    ];
    return { accessToken: sent[0], refreshToken: "r2", idToken: "i2", expiresIn: 60, tokenType: "Bearer" };
  },
  oauth: oauthOptions,
  revoke: async ({ refreshToken, accessToken }) => void [refreshToken, accessToken],
  refreshBeforeSeconds: 60,
  minValiditySeconds: 5,
  retry: retryOptions,
  crossTab: true,
  idleTimeoutSeconds: 900,
  idleWarningSeconds: 60,
  maxSessionSeconds: 43_200,
  allowedOrigins: ["https://api.example.com", "https://example.com/v2/"],
  requestTimeoutMs: 10_000,
  lockTimeoutMs: 15_000,
  dpop: true,
  now: () => Date.now(),
};
const configured = new TokenKeeper(options);
const withDefaults = new TokenKeeper();
// A refresh callback may return a raw token response (snake_case) too; revoke may be synchronous.
const refreshing = new TokenKeeper({
  refresh: async (current) => ({ access_token: current.accessToken, expires_in: "60", token_type: "Bearer" }),
  revoke: () => {},
  storage: "memory",
});
const viaOAuth = new TokenKeeper({ oauth: { tokenEndpoint: "https://id.example.com/token", clientId: "spa" } });
// Under exactOptionalPropertyTypes (tsconfig in tests/.scratch), an optional option takes a
// value that may be undefined, as discovery documents give it: the runtime treats it as absent.
declare const discovered: { token_endpoint: string; revocation_endpoint?: string | undefined; scope?: string };
new TokenKeeper({
  oauth: {
    tokenEndpoint: discovered.token_endpoint,
    clientId: "spa",
    revocationEndpoint: discovered.revocation_endpoint,
    scope: discovered.scope,
  },
  idleTimeoutSeconds: undefined,
  refresh: undefined,
});
viaOAuth.setTokens({ accessToken: "a", refreshToken: discovered.scope, expiresIn: undefined }, { remember: undefined });

// @ts-expect-error storage kinds are a closed set
new TokenKeeper({ storage: "cookie" });
// @ts-expect-error a typo is an unknown option
new TokenKeeper({ allowedOrigin: ["https://api.example.com"] });
// @ts-expect-error seconds are numbers
new TokenKeeper({ refreshBeforeSeconds: "60" });
// @ts-expect-error crossTab is a boolean
new TokenKeeper({ crossTab: "yes" });
// @ts-expect-error dpop is a boolean
new TokenKeeper({ dpop: "nonce" });
// @ts-expect-error allowedOrigins is a list
new TokenKeeper({ allowedOrigins: "https://api.example.com" });
// @ts-expect-error the clock returns epoch milliseconds
new TokenKeeper({ now: () => new Date() });
// @ts-expect-error oauth needs a clientId
new TokenKeeper({ oauth: { tokenEndpoint: "https://id.example.com/token" } });
// @ts-expect-error extra parameters are strings
new TokenKeeper({ oauth: { tokenEndpoint: "https://id.example.com/token", clientId: "spa", extraParams: { n: 1 } } });
// @ts-expect-error an unknown oauth option
new TokenKeeper({ oauth: { tokenEndpoint: "https://id.example.com/token", clientId: "spa", audience: "api" } });
// @ts-expect-error retry counts are numbers
new TokenKeeper({ retry: { maxAttempts: "3" } });
// @ts-expect-error an unknown retry option
new TokenKeeper({ retry: { attempts: 3 } });
// @ts-expect-error the refresh callback returns a promise
new TokenKeeper({ refresh: (current: CurrentTokens) => ({ accessToken: current.accessToken }) });
// @ts-expect-error the refresh callback's answer needs an access token
new TokenKeeper({ refresh: async () => ({ refreshToken: "r" }) });

// ---- TokenKeeper: methods and properties -------------------------------------------------------

const keeper = new TokenKeeper({ namespace: "app", storage: "local", idleTimeoutSeconds: 900 });
const set: TokenSet = { accessToken: token, refreshToken: "r", idToken: "i", expiresIn: 300, tokenType: "Bearer" };
keeper.setTokens(set, { remember: true });
keeper.setTokens(set);
const raw: TokenResponse = {
  access_token: token,
  refresh_token: "r",
  id_token: "i",
  expires_in: 300,
  token_type: "DPoP",
  scope: "openid",
};
keeper.setTokens(raw);
keeper.setTokens({ access_token: "opaque", expires_in: "300", session_state: "s" });
const fresh: Promise<string> = keeper.getAccessToken();
const renewed: RefreshResult = await keeper.refresh();
const renewedParts: [string, string | undefined, number | undefined, "Bearer" | "DPoP"] = [
  renewed.accessToken,
  renewed.idToken,
  renewed.expiresAt,
  renewed.tokenType,
];
const response: Promise<Response> = keeper.fetch("/api", { method: "POST", body: "x" });
const responseToo: Promise<Response> = keeper.fetch(new URL("https://api.example.com/me"));
const responseThree: Promise<Response> = keeper.fetch(new Request("https://api.example.com/me"));
keeper.touch();
keeper.clear();
keeper.clear({ revoke: false });
const proof: Promise<string> = configured.dpopProof("POST", "https://id.example.com/token");
const boundProof: Promise<string> = configured.dpopProof("GET", "https://api.example.com/me", {
  nonce: "n",
  accessToken: token,
});
const thumbprint: Promise<string> = configured.dpopThumbprint();
const held: string | undefined = keeper.accessToken;
const claims: JwtPayload | undefined = keeper.claims;
const heldUntil: number | undefined = keeper.expiresAt;
const kind: StorageKind = keeper.storageKind;
const tokenType: "Bearer" | "DPoP" | undefined = keeper.tokenType;
const nextRefreshAt: number | undefined = keeper.nextRefreshAt;
const idToken: string | undefined = keeper.idToken;
const idName: unknown = keeper.idClaims?.name;
keeper.on("error", ({ code, status, error, errorDescription, endpoint }) =>
  console.log(code, status, error, errorDescription, endpoint),
);
// @ts-expect-error nextRefreshAt is read-only
keeper.nextRefreshAt = 1;
keeper.dispose();

// @ts-expect-error setTokens needs accessToken (or access_token)
keeper.setTokens({ refreshToken: "r", expiresIn: 300 });
// @ts-expect-error setTokens needs access_token (or accessToken)
keeper.setTokens({ refresh_token: "r", expires_in: 300 });
// @ts-expect-error the access token is a string
keeper.setTokens({ accessToken: 42 });
// @ts-expect-error remember is a boolean
keeper.setTokens(set, { remember: "yes" });
// @ts-expect-error refresh() never hands out the refresh token
renewed.refreshToken;
// @ts-expect-error clear takes { revoke }
keeper.clear({ revoke: "no" });
// @ts-expect-error the state is read-only
keeper.accessToken = "a";
// @ts-expect-error the storage kind is read-only
keeper.storageKind = "memory";
// @ts-expect-error dpopProof needs a method and a URL
configured.dpopProof("POST");

// ---- TokenKeeper: every event ------------------------------------------------------------------

const off: () => void = keeper.on("changed", (d) => {
  const origin: "set" | "restore" | "other-tab" | "refresh" = d.origin;
  const changedClaims: JwtPayload | undefined = d.claims;
  const changedExp: number | undefined = d.expiresAt;
  const changedKind: StorageKind = d.storageKind;
  console.log(origin, changedClaims, changedExp, changedKind);
});
off();
keeper.on("refreshing", (d) => console.log(d.expiresAt));
keeper.on("refreshed", (d) => console.log(d.expiresAt));
keeper.on("expired", (d) => console.log(d.expiresAt));
keeper.on("error", (d) => {
  const code: TokenErrorCode = d.code;
  const retryAfter: number | undefined = d.retryAfterSeconds;
  console.log(code, d.message, retryAfter);
});
keeper.on("cleared", (d) => {
  const reason: ClearReason = d.reason;
  console.log(reason === "logout" || reason === "invalid_grant" || reason === "idle" || reason === "max_session");
});
keeper.on("idle-warning", (d) => {
  const secondsLeft: number = d.secondsLeft;
  console.log(secondsLeft);
});
const everyEvent: Record<KeeperEvent, true> = {
  changed: true,
  refreshing: true,
  refreshed: true,
  expired: true,
  error: true,
  cleared: true,
  "idle-warning": true,
};
const listen = <E extends KeeperEvent>(event: E, listener: (detail: KeeperEventMap[E]) => void) =>
  keeper.on(event, listener);
listen("cleared", (d) => console.log(d.reason));

// @ts-expect-error unknown event
keeper.on("refreshd", () => {});
// @ts-expect-error the event is "idle-warning"
keeper.on("idle_warning", () => {});
// @ts-expect-error cleared's reasons are a closed set
keeper.on("cleared", (d) => d.reason === "timeout");
// @ts-expect-error an idle-warning carries secondsLeft, not a reason
keeper.on("idle-warning", (d) => d.reason);
// @ts-expect-error an error event's code is one of the package's codes
keeper.on("error", (d) => d.code === "ERR_OFFLINE");
// @ts-expect-error events carry no token
keeper.on("refreshed", (d) => d.accessToken);

// ---- tokenkeeper/testing -----------------------------------------------------------------------

const issuerOptions: Required<TestIssuerOptions> = {
  port: 0,
  host: "127.0.0.1",
  clientId: "test-client",
  user: "test-user",
  accessTokenTtl: 300,
  sessionSeconds: 3600,
  rotation: true,
  cors: ["http://localhost:5173"],
  clockOffsetMs: 0,
  static: { "/": "./dist" },
  dpop: "nonce",
  dpopNonceSeconds: 300,
  audience: "test-api",
  issuerName: "https://id.example.com",
  passwordGrant: false,
  redirectUris: ["com.example.app:/callback"],
};
const dpopModes: DpopMode[] = [true, false, "nonce"];
const issuer: TestIssuer = await startTestIssuer(issuerOptions);
const plainIssuer: TestIssuer = await startTestIssuer();
await startTestIssuer({ host: "::1", cors: "*", dpop: false });
await startTestIssuer({ host: "localhost", cors: false, dpop: true });
await startTestIssuer({ accessTokenTtl: discovered.scope === undefined ? undefined : 60, clientId: undefined });

const endpoints: string[] = [
  issuer.origin,
  issuer.issuer,
  issuer.clientId,
  issuer.authorizationEndpoint,
  issuer.tokenEndpoint,
  issuer.revocationEndpoint,
  issuer.apiEndpoint,
  issuer.jwksUri,
  issuer.discoveryUrl,
];
const port: number = issuer.port;
const issuerKeys: JwkSet = issuer.jwks;
const key: PublicJwk = issuerKeys.keys[0];
const keyParts: ["EC", "P-256", string, string, string, "ES256", "sig"] = [
  key.kty,
  key.crv,
  key.x,
  key.y,
  key.kid,
  key.alg,
  key.use,
];

const signInOptions: Required<SignInOptions> = { ttl: 5, scope: "openid", jkt: await thumbprint, device: "test" };
const signedIn: IssuerTokenResponse = issuer.signIn("ada", signInOptions);
plainIssuer.signIn();
keeper.setTokens(signedIn);
keeper.setTokens(plainIssuer.signIn("bob", { ttl: 60 }));
const responseParts: [string, "Bearer" | "DPoP", number, string, string, string | undefined] = [
  signedIn.access_token,
  signedIn.token_type,
  signedIn.expires_in,
  signedIn.refresh_token,
  signedIn.scope,
  signedIn.id_token,
];

const kinds: FailureKind[] = [
  "500",
  "503",
  "429",
  "invalid_grant",
  "drop",
  "hang",
  "slow",
  "html",
  "garbage",
  "empty",
  "huge",
  "redirect",
  "no-cors",
  "date",
];
for (const failure of kinds) issuer.failNext(failure);
const failureOptions: Required<FailureOptions> = {
  retryAfter: 2,
  delayMs: 1000,
  bytes: 2 << 20,
  offsetMs: 86_400_000,
  location: "/moved/token",
};
issuer.failNext("429", failureOptions);
issuer.failNext("slow", { delayMs: 15_000 });

const stats: IssuerStats = issuer.stats;
const counters: number[] = [
  stats.refreshRequests,
  stats.refreshes,
  stats.reuseDetections,
  stats.invalidGrants,
  stats.revocations,
  stats.codeExchanges,
  stats.apiCalls,
  stats.api401,
  stats.dpopFailures,
  stats.nonceChallenges,
];
const request: RequestRecord = stats.requests[0];
const requestParts: [number, string, string, string | undefined, string] = [
  request.at,
  request.method,
  request.path,
  request.grant,
  request.outcome,
];
const requestMore: [
  string | undefined,
  FailureKind | undefined,
  string | undefined,
  string | undefined,
  string | undefined,
] = [request.reason, request.injected, request.origin, request.family, request.refreshTokenFingerprint];
const spent: (string | undefined)[] = stats.requests
  .filter((r) => r.grant === "refresh_token")
  .map((r) => r.refreshTokenFingerprint);
const sessions: SessionInfo[] = issuer.sessions();
const sameSessions: SessionInfo[] = stats.sessions();
const session = sessions[0];
const sessionParts: [string, string, string, number, number, number | undefined, number, boolean, string | undefined] =
  [
    session.id,
    session.user,
    session.device,
    session.createdAt,
    session.expiresAt,
    session.lastRefreshAt,
    session.refreshes,
    session.revoked,
    session.jkt,
  ];
const revoked: boolean = issuer.revokeSession(session.id);
issuer.revokeAccessTokens();
const nonce: string = issuer.rotateNonce();
await issuer.close();
await plainIssuer.close();

const makeJwtOptions: Required<MakeJwtOptions> = { expiresIn: 60, header: { kid: "k" }, signed: true, now: Date.now() };
const unitToken: string = makeJwt({ sub: "ada" }, makeJwtOptions);
const unsigned: string = makeJwt();
const expiredToken: string = makeJwt({ sub: "ada" }, { expiresIn: -1 });
const processKeys: JwkSet = testJwks();

// @ts-expect-error an unknown issuer option (the option is accessTokenTtl)
await startTestIssuer({ accessTokenTTL: 5 });
// @ts-expect-error a port is a number
await startTestIssuer({ port: "8080" });
// @ts-expect-error cors is "*", a list of origins or false
await startTestIssuer({ cors: true });
// @ts-expect-error dpop is a boolean or "nonce"
await startTestIssuer({ dpop: "always" });
// @ts-expect-error not a failure kind
issuer.failNext("404");
// @ts-expect-error failure options are numbers (and a location)
issuer.failNext("429", { retryAfter: "2" });
// @ts-expect-error the ttl is seconds
issuer.signIn("ada", { ttl: "5m" });
// @ts-expect-error records carry a fingerprint, never the refresh token
request.refreshToken;
// @ts-expect-error the issuer's origin is read-only
issuer.origin = "http://127.0.0.1:1";
// @ts-expect-error makeJwt's claims are an object
makeJwt("sub");
// @ts-expect-error expiresIn is seconds
makeJwt({}, { expiresIn: "1h" });

export {
  exp,
  aud,
  registered,
  custom,
  alg,
  headerParams,
  roles,
  x5t,
  at,
  expired,
  expiredNow,
  left,
  leftNow,
  decodedOnly,
  headerOnly,
  expOnly,
  expiredOnly,
  leftOnly,
  decodeCode,
  everyCode,
  made,
  withDefaults,
  refreshing,
  viaOAuth,
  fresh,
  renewedParts,
  response,
  responseToo,
  responseThree,
  proof,
  boundProof,
  held,
  claims,
  heldUntil,
  kind,
  tokenType,
  everyEvent,
  dpopModes,
  endpoints,
  port,
  keyParts,
  responseParts,
  counters,
  requestParts,
  requestMore,
  spent,
  sameSessions,
  sessionParts,
  revoked,
  nonce,
  unitToken,
  unsigned,
  expiredToken,
  processKeys,
};

// isolation "worker" (API §7): the option on the `tokenkeeper` entry, and `tokenkeeper/isolated`.
import { TokenKeeper as IsolatedKeeper, TokenError as IsolatedError } from "tokenkeeper/isolated";
const isolatedOptions: KeeperOptions = {
  isolation: "worker",
  workerUrl: new URL("/assets/worker.js", "https://app.example.com"),
  oauth: { tokenEndpoint: "https://id.example.com/token", clientId: "app" },
};
const isolatedKeeper: TokenKeeper = new IsolatedKeeper(isolatedOptions);
void isolatedKeeper
  .getAccessToken()
  .catch((e: unknown) => e instanceof IsolatedError && e.code === "ERR_ISOLATION_UNAVAILABLE");
// @ts-expect-error isolation is "page" or "worker"
new IsolatedKeeper({ isolation: "tab" });
