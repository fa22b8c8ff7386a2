// The Node part of `npm run bench`: tokenkeeper against jose and jwt-decode in one process,
// getAccessToken() on a fresh token against awaiting a resolved promise, and the time from
// import() to the first decode in fresh processes.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import * as jose from "jose";
import { jwtDecode } from "jwt-decode";
import init, * as tk from "../js/node.js";
import { sign, typicalPayload, largePayload } from "../tests/support/tokens.mjs";
import { runGroups, runAsyncGroup } from "./harness.mjs";
import { cases } from "./cases.mjs";

/** A short token (~350 characters) with ordinary claims: one audience, a few scopes. */
function shortPayload(i) {
  return {
    iss: "https://login.example.com/",
    sub: `2482897610${String(i).padStart(2, "0")}`,
    aud: "api://orders",
    iat: 1_700_000_000 + i,
    exp: 1_700_003_600 + i,
    scope: "openid profile orders:read",
    client_id: "web-app",
    jti: `c2f1e7a0-9d4b-4e0e-${String(i).padStart(4, "0")}`,
  };
}

/** A large token (~11 KB): the large test payload with more permissions. */
function largeBenchPayload(i) {
  const permissions = Array.from({ length: 310 }, (_, k) => `resource-${k}:read-write`);
  return { ...largePayload(i), permissions };
}

/** `count` distinct tokens of each size; `[0]` is the one repeated in the "same" cases. */
export async function makeTokens(count = 64) {
  const short = [];
  const typical = [];
  const large = [];
  for (let i = 0; i < count; i++) {
    short.push(await sign(shortPayload(i)));
    typical.push(await sign(typicalPayload(i)));
    large.push(await sign(largeBenchPayload(i)));
  }
  return { short, typical, large };
}

export async function benchNodeDecoding(tokens) {
  await init();
  return runGroups(cases(tk, jose, jwtDecode, tokens));
}

/** getAccessToken() on a fresh token: no decode, no storage read, no network. */
export async function benchGetAccessToken(TokenKeeper, token) {
  const keeper = new TokenKeeper({ storage: "memory" });
  keeper.setTokens({ accessToken: token });
  const rows = await runAsyncGroup("getAccessToken fresh", [
    { impl: "await Promise.resolve(token)", fn: () => Promise.resolve(token), baseline: true },
    { impl: "await keeper.getAccessToken()", fn: () => keeper.getAccessToken() },
  ]);
  keeper.dispose();
  return rows;
}

/** Median ms from import() to the first decode, in fresh Node processes. */
export async function benchStartup(token, runs = 7) {
  const entry = fileURLToPath(new URL("../js/node.js", import.meta.url));
  const scripts = {
    tokenkeeper: `const t0 = performance.now(); const m = await import(${JSON.stringify(entry)}); await m.default(); m.decodeJwt(${JSON.stringify(token)}); console.log(performance.now() - t0);`,
    jose: `const t0 = performance.now(); const m = await import("jose"); m.decodeJwt(${JSON.stringify(token)}); console.log(performance.now() - t0);`,
  };
  const times = { tokenkeeper: [], jose: [] };
  for (let i = 0; i < runs; i++) {
    for (const [name, script] of Object.entries(scripts)) {
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
      });
      times[name].push(Number(stdout.trim()));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ms = { tokenkeeper: median(times.tokenkeeper), jose: median(times.jose) };
  return {
    group: "import() to first decode (fresh process)",
    impl: "tokenkeeper init()+decodeJwt",
    ms: ms.tokenkeeper,
    joseMs: ms.jose,
    vsJose: ms.tokenkeeper / ms.jose,
  };
}

export { tk };
