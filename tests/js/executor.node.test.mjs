// The JavaScript executor of the refresh protocol (js/runtime/steps.js, from the packed
// package) against scripted steps and a real HTTP server: each step is carried out and answered
// with the report the Rust step machine reads (src/protocol/schema.rs; the host tests drive the
// machine itself). What the host simulator stands in for, run for real.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { INSTALLED } from "../support/package.mjs";

let StepRunner;
let server;
let origin;
const seen = [];

before(async () => {
  ({ StepRunner } = await import(`${INSTALLED}js/runtime/steps.js`));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, body, dpop: req.headers.dpop });
      if (req.url === "/token") {
        res.writeHead(429, {
          "content-type": "application/json",
          "retry-after": "7",
          "dpop-nonce": "n-1",
          date: new Date(1_700_000_000_000).toUTCString(),
        });
        return res.end('{"error":"slow_down"}');
      }
      if (req.url === "/moved") {
        res.writeHead(307, { location: "/elsewhere" });
        return res.end();
      }
      if (req.url === "/hang") return; // never answers
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const runner = (refresh) =>
  new StepRunner({
    refresh,
    publicJwk: async () => '{"kty":"EC"}',
    proof: async (input) => `${input}.signed`,
  });

test("send: the token request as the step says, answered with status, headers and body", async () => {
  const report = await runner().run({
    step: "send",
    url: `${origin}/token`,
    body: "grant_type=refresh_token&refresh_token=rt-exec",
    dpop: "header.payload",
    timeoutMs: 2000,
  });
  assert.deepEqual(report, {
    r: "answer",
    status: 429,
    dateMs: 1_700_000_000_000,
    retryAfter: "7",
    retryAfterDateMs: undefined, // seconds, not a date
    dpopNonce: "n-1",
    body: '{"error":"slow_down"}',
  });
  const request = seen.at(-1);
  assert.equal(request.method, "POST");
  assert.equal(request.body, "grant_type=refresh_token&refresh_token=rt-exec");
  assert.equal(request.dpop, "header.payload.signed", "the proof the step asked to sign");
});

test("send: a redirect is reported as its status, never followed; a hang as a timeout", async () => {
  const moved = await runner().run({ step: "send", url: `${origin}/moved`, body: "x", timeoutMs: 2000 });
  assert.equal(moved.r, "answer");
  assert.equal(moved.status, 307);
  assert.equal(
    seen.some((r) => r.url === "/elsewhere"),
    false,
  );
  const started = Date.now();
  const hung = await runner().run({ step: "send", url: `${origin}/hang`, body: "x", timeoutMs: 300 });
  assert.deepEqual(hung, { r: "timeout" });
  assert.ok(Date.now() - started < 2000, "aborted after timeoutMs");
  const refused = await runner().run({ step: "send", url: "http://127.0.0.1:1/token", body: "x", timeoutMs: 2000 });
  assert.deepEqual(refused, { r: "network-error", online: true });
});

test("probe, wait, lock, query-rotation, announce and release report what the step machine reads", async () => {
  const r = runner();
  assert.deepEqual(await r.run({ step: "probe", url: `${origin}/`, timeoutMs: 2000 }), {
    r: "probed",
    corsOk: true,
    reachable: true,
  });
  const started = Date.now();
  assert.deepEqual(await r.run({ step: "wait", ms: 50, wakeOnOnline: false }), { r: "waited" });
  assert.ok(Date.now() - started >= 45);
  // Node has no Web Locks: the machine then spreads tabs out instead of locking.
  const locked = await r.run({ step: "lock", name: "tokenkeeper:exec:refresh", timeoutMs: 100 });
  assert.deepEqual(locked, typeof navigator === "object" && navigator.locks ? { r: "locked" } : { r: "no-locks" });
  assert.deepEqual(await r.run({ step: "query-rotation", prefix: "p:", holdPrefix: "h:" }), {
    r: "rotation",
    latest: -Infinity,
    holds: [],
  });
  assert.deepEqual(await r.run({ step: "announce", name: "n", holdMs: 10 }), { r: "ok" });
  assert.deepEqual(await r.run({ step: "release" }), { r: "ok" });
  assert.deepEqual(await r.run({ step: "load-key" }), { r: "key", jwk: '{"kty":"EC"}' });
});

test("call: the app's refresh callback, its tokens or what it threw, bounded by the timeout", async () => {
  const tokens = { accessToken: "at-exec", refreshToken: "rt-exec", tokenType: "Bearer" };
  const ok = await runner(async (current) => ({ ...current, accessToken: "at-new" })).run({
    step: "call",
    tokens,
    timeoutMs: 1000,
  });
  assert.equal(ok.r, "callback-tokens");
  assert.equal(JSON.parse(ok.tokens).access_token, "at-new");
  const thrown = await runner(async () => {
    throw Object.assign(new Error("no"), { error: "invalid_grant", status: 400 });
  }).run({ step: "call", tokens, timeoutMs: 1000 });
  assert.deepEqual(thrown, { r: "callback-failed", error: "invalid_grant", code: undefined, status: 400 });
  const slow = await runner(() => new Promise(() => {})).run({ step: "call", tokens, timeoutMs: 100 });
  assert.deepEqual(slow, { r: "timeout" });
});
