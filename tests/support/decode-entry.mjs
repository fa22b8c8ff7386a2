// Shared by decode-entry.node.test.mjs and decode-entry.browser.test.mjs: the corpus on which
// `tokenkeeper/decode` must answer as `tokenkeeper` does, what an entry answers for it, and how
// to tell the two wasm modules apart by their bytes (bundlers rename the files).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { INSTALLED } from "./package.mjs";
import { corpus } from "./tokens.mjs";
import { ERROR_CASES, base64EdgeTokens, malformedTokens } from "./decode-cases.mjs";

/** Good tokens, base64 edges (with the 1 MiB limit), malformed tokens and one input per error code. */
export async function entryCorpus() {
  return [
    ...(await corpus()),
    ...(await base64EdgeTokens()),
    ...(await malformedTokens()),
    ...ERROR_CASES.map((c) => c[1]),
  ];
}

/** What each of the five functions of `tk` says about each input: `{ value }`, or the error's
 *  class, name, code, part, claim and message. Self-contained: it is sent into pages as text. */
export function entryOutcomes(tk, inputs) {
  const now = 1_800_000_000_000;
  const calls = [
    (t) => tk.decodeJwt(t),
    (t) => tk.decodeHeader(t),
    (t) => tk.expiresAt(t),
    (t) => tk.isExpired(t, { now, leewaySeconds: 30 }),
    (t) => tk.secondsUntilExpiry(t, { now }),
  ];
  return inputs.map((t) =>
    calls.map((call) => {
      try {
        const value = call(t);
        return { value: value === undefined ? "undefined" : value };
      } catch (e) {
        return {
          tokenError: e instanceof tk.TokenError,
          name: e.name,
          code: e.code,
          part: e.part ?? null,
          claim: e.claim ?? null,
          message: e.message,
        };
      }
    }),
  );
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** The two modules of the packed package, by content: `identify(bytes)` says which one
 *  (or "other"); `keeper` and `decode` are their bytes. */
export async function wasmModules() {
  const keeper = await readFile(`${INSTALLED}pkg/tokenkeeper_bg.wasm`);
  const decode = await readFile(`${INSTALLED}pkg/decode/tokenkeeper_decode_bg.wasm`);
  const byHash = new Map([
    [sha256(keeper), "keeper"],
    [sha256(decode), "decode"],
  ]);
  return { keeper, decode, identify: (bytes) => byHash.get(sha256(bytes)) ?? "other" };
}

/** Whether `bytes` begin like a WebAssembly module. */
export function isWasm(bytes) {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}
