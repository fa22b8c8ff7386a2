// Compiled with `tsc --noEmit --strict` against the installed package in a Node project
// WITHOUT the DOM lib (tests/.scratch/tsconfig.node.json: "lib": ["es2022"], "types": ["node"],
// skipLibCheck false), as server-side rendering code and an app's own tests (node:test) are:
// the shipped types must not need DOM declarations.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import init, {
  decodeJwt,
  expiresAt,
  isExpired,
  TokenError,
  TokenKeeper,
  type JwtPayload,
  type RefreshResult,
  type TokenErrorCode,
} from "tokenkeeper";
import {
  decodeHeader,
  default as initDecode,
  initSync as initDecodeSync,
  secondsUntilExpiry,
  TokenError as DecodeError,
} from "tokenkeeper/decode";
import { makeJwt, startTestIssuer, testJwks, type TestIssuer, type TokenResponse } from "tokenkeeper/testing";

await init();
await init(new URL("./node_modules/tokenkeeper/pkg/tokenkeeper_bg.wasm", import.meta.url));
await initDecode();
initDecodeSync(
  await readFile(new URL("./node_modules/tokenkeeper/pkg/decode/tokenkeeper_decode_bg.wasm", import.meta.url)),
);

// Decoding, from both entries.
const token: string = makeJwt({ sub: "ada", roles: ["admin"] }, { expiresIn: 60, signed: true });
const claims: JwtPayload & { roles?: string[] } = decodeJwt(token);
const kid: string | undefined = decodeHeader(token).kid;
const left: number | undefined = secondsUntilExpiry(token, { now: Date.now() });
const stale: boolean = isExpired(token, { leewaySeconds: 5 });
const exp: number | undefined = expiresAt(token);
assert.equal(testJwks().keys[0].kid, kid);
try {
  decodeJwt("not a token");
} catch (e) {
  if (e instanceof TokenError || e instanceof DecodeError) {
    const code: TokenErrorCode = e.code;
    assert.equal(code, "ERR_TOKEN_MALFORMED");
  }
}

// A keeper in memory (no web storage in Node), with the test kit's issuer.
test("the keeper refreshes against the test issuer", async () => {
  const issuer: TestIssuer = await startTestIssuer({ accessTokenTtl: 60 });
  const keeper = new TokenKeeper({
    storage: "memory",
    oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId },
    allowedOrigins: [issuer.origin],
    idleTimeoutSeconds: 600,
  });
  try {
    const off = keeper.on("idle-warning", ({ secondsLeft }) => console.log(secondsLeft));
    keeper.on("error", ({ code, message }) => console.log(code, message));
    const tokens: TokenResponse = issuer.signIn("ada", { ttl: 30 });
    keeper.setTokens(tokens);
    const fresh: string = await keeper.getAccessToken();
    const renewed: RefreshResult = await keeper.refresh();
    assert.notEqual(renewed.accessToken, fresh);
    issuer.failNext("503", { retryAfter: 1 });
    const response = await keeper.fetch(issuer.apiEndpoint, { method: "POST", body: "hello" });
    const body: unknown = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(issuer.stats.refreshes, 1);
    assert.equal(keeper.storageKind, "memory");
    const held: string | undefined = keeper.accessToken;
    assert.ok(held);
    off();
    keeper.clear({ revoke: false });
  } finally {
    keeper.dispose();
    await issuer.close();
  }
});

export { claims, left, stale, exp };
