// `tokenkeeper/decode` of the packed package in Node: it resolves through the exports map to
// the decode-only module, decodes, answers as `tokenkeeper` does on the whole corpus, never
// reads the keeper's wasm (proved twice: node:fs calls recorded by a --import preload, and every
// open(2) of the process seen by strace), and says what went wrong when init() is given bytes
// that are not its module.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import * as jose from "jose";
import { INSTALLED, ROOT, SCRATCH, importPackage } from "../support/package.mjs";
import { entryCorpus, entryOutcomes } from "../support/decode-entry.mjs";
import { recordError } from "../support/leak-scan.mjs";
import { sign } from "../support/tokens.mjs";

const run = promisify(execFile);
const KEEPER_WASM = `${INSTALLED}pkg/tokenkeeper_bg.wasm`;
const DECODE_WASM = `${INSTALLED}pkg/decode/tokenkeeper_decode_bg.wasm`;
const KEEPER_GLUE = `${INSTALLED}pkg/tokenkeeper.js`;
const PRELOAD = `${ROOT}tests/fixtures/decode-entry/record-reads.mjs`;

/** Runs an ES module script in a fresh Node process in the scratch project (where
 *  `tokenkeeper` is installed), and returns its stdout parsed as JSON. */
async function inFreshProcess(script, { args = [], env = {}, command = process.execPath } = {}) {
  const { stdout } = await run(command, [...args, "--input-type=module", "-e", script], {
    cwd: SCRATCH,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout);
}

let decode;
let main;
before(async () => {
  main = await importPackage();
  // In this process, a bare `tokenkeeper/decode` would resolve to the repository itself (a
  // package may import itself by name): import it from a file in the scratch project instead.
  const entry = `${SCRATCH}decode-entry.mjs`;
  await writeFile(entry, 'export * from "tokenkeeper/decode";\nexport { default } from "tokenkeeper/decode";\n');
  decode = await import(pathToFileURL(entry).href);
});

test("tokenkeeper/decode resolves to js/decode-node.js in Node and exports decoding only", async () => {
  const resolved = await inFreshProcess(
    `console.log(JSON.stringify([import.meta.resolve("tokenkeeper/decode"), import.meta.resolve("tokenkeeper")]));`,
  );
  assert.deepEqual(resolved, [
    pathToFileURL(`${INSTALLED}js/decode-node.js`).href,
    pathToFileURL(`${INSTALLED}js/node.js`).href,
  ]);
  assert.deepEqual(Object.keys(decode).sort(), [
    "TokenError",
    "decodeHeader",
    "decodeJwt",
    "default",
    "expiresAt",
    "initSync",
    "isExpired",
    "secondsUntilExpiry",
  ]);
  assert.equal(decode.TokenError, main.TokenError, "one TokenError class for both entries");
});

test("before init() decode calls throw ERR_NOT_INITIALIZED; then init() decodes like jose", async () => {
  assert.throws(() => decode.decodeJwt("a.b.c"), { name: "TokenError", code: "ERR_NOT_INITIALIZED" });
  await Promise.all([decode.default(), decode.default()]);
  await decode.default();
  const token = await sign({ sub: "decode-entry", exp: 1_900_000_000, roles: ["a", "b"] }, { kid: "k1" });
  assert.deepStrictEqual(decode.decodeJwt(token), jose.decodeJwt(token));
  assert.deepStrictEqual(decode.decodeHeader(token), jose.decodeProtectedHeader(token));
  assert.equal(decode.expiresAt(token), 1_900_000_000);
  assert.equal(decode.isExpired(token, { now: 1_900_000_000_000 }), true);
  assert.equal(decode.secondsUntilExpiry(token, { now: 1_899_999_990_000 }), 10);
});

test("in a fresh process, tokenkeeper/decode's init() takes the default file, bytes, a module, a Response, or initSync", async () => {
  const token = await sign({ sub: "fresh-decode", exp: 2_000_000_000 });
  const read = `await readFile(${JSON.stringify(DECODE_WASM)})`;
  const inputs = {
    default: "await init()",
    bytes: `await init(${read})`,
    module: `await init(new WebAssembly.Module(${read}))`,
    response: `await init(new Response(${read}, { headers: { "content-type": "application/wasm" } }))`,
    initSync: `initSync(${read})`,
  };
  for (const [name, call] of Object.entries(inputs)) {
    const result = await inFreshProcess(`
      import { readFile } from "node:fs/promises";
      import init, { initSync, decodeJwt } from "tokenkeeper/decode";
      ${call};
      console.log(JSON.stringify(decodeJwt(${JSON.stringify(token)}).sub));`);
    assert.equal(result, "fresh-decode", name);
  }
});

test("tokenkeeper/decode gives tokenkeeper's values and TokenErrors (code, part, claim, message) on the corpus", async () => {
  await Promise.all([main.default(), decode.default()]);
  const inputs = await entryCorpus();
  const expected = entryOutcomes(main, inputs);
  const actual = entryOutcomes(decode, inputs);
  let errors = 0;
  inputs.forEach((input, i) => {
    assert.deepStrictEqual(actual[i], expected[i], `input ${i}: ${JSON.stringify(input)?.slice(0, 80)}`);
    for (const o of actual[i]) if (o.code) errors++;
  });
  const codes = new Set(actual.flat().map((o) => o.code));
  for (const code of [
    "ERR_TOKEN_MALFORMED",
    "ERR_TOKEN_ENCRYPTED",
    "ERR_TOKEN_BASE64",
    "ERR_TOKEN_UTF8",
    "ERR_TOKEN_JSON",
    "ERR_TOKEN_NOT_OBJECT",
    "ERR_CLAIM_TYPE",
  ]) {
    assert.ok(codes.has(code), `the corpus reaches ${code}`);
  }
  assert.ok(inputs.length > 700 && errors > 3000, `${inputs.length} inputs, ${errors} errors compared`);
  assert.ok(
    actual.every((row) => row.every((o) => !o.code || o.tokenError)),
    "every error is the entry's TokenError",
  );
});

/** What a fresh process that imports `specifier` and awaits its init() reads and opens. */
const IMPORT_AND_INIT = (specifier, token) => `
  const tk = await import(${JSON.stringify(specifier)});
  await tk.default();
  console.log(JSON.stringify(tk.decodeJwt(${JSON.stringify(token)}).sub));`;

test("importing tokenkeeper/decode and init() never reads the keeper's wasm (node:fs calls, recorded by a --import preload)", async () => {
  const token = await sign({ sub: "reads" });
  const dir = await mkdtemp(join(tmpdir(), "tk-reads-"));
  try {
    const readsOf = async (specifier) => {
      const out = join(dir, `${specifier.replace("/", "-")}.json`);
      const sub = await inFreshProcess(IMPORT_AND_INIT(specifier, token), {
        args: ["--import", pathToFileURL(PRELOAD).href],
        env: { RECORD_READS_TO: out },
      });
      assert.equal(sub, "reads");
      return JSON.parse(await readFile(out, "utf8"));
    };
    const decodeReads = await readsOf("tokenkeeper/decode");
    assert.deepEqual(
      decodeReads.filter((r) => r.endsWith(".wasm")),
      [`readFile ${DECODE_WASM}`],
      "the decode entry reads its own module once",
    );
    // The control: the same recorder sees the main entry read the keeper's module.
    const mainReads = await readsOf("tokenkeeper");
    assert.deepEqual(
      mainReads.filter((r) => r.endsWith(".wasm")),
      [`readFile ${KEEPER_WASM}`],
      "the recorder sees the main entry read the keeper's module",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const STRACE = ["/usr/bin/strace", "/bin/strace"].find((p) => existsSync(p));

test(
  "importing tokenkeeper/decode and init() never opens the keeper's wasm or glue (every open(2) of the process, seen by strace)",
  { skip: STRACE ? false : "strace is not installed" },
  async () => {
    const token = await sign({ sub: "opens" });
    const dir = await mkdtemp(join(tmpdir(), "tk-strace-"));
    try {
      const opensOf = async (specifier) => {
        const log = join(dir, `${specifier.replace("/", "-")}.log`);
        const sub = await inFreshProcess(IMPORT_AND_INIT(specifier, token), {
          command: STRACE,
          args: ["-f", "-qq", "-e", "trace=open,openat,openat2", "-o", log, process.execPath],
        });
        assert.equal(sub, "opens");
        const opened = [...(await readFile(log, "utf8")).matchAll(/open(?:at2?)?\([^"]*"([^"]+)"/g)].map((m) => m[1]);
        return opened.filter((p) => p.startsWith(INSTALLED));
      };
      const decodeOpens = await opensOf("tokenkeeper/decode");
      assert.ok(decodeOpens.includes(DECODE_WASM), "strace sees the decode module opened");
      for (const keeperFile of [KEEPER_WASM, KEEPER_GLUE, `${INSTALLED}js/full.js`, `${INSTALLED}js/keeper.js`]) {
        assert.ok(!decodeOpens.includes(keeperFile), `the decode entry opened ${keeperFile}`);
      }
      assert.deepEqual(
        decodeOpens.filter((p) => p.endsWith(".wasm")),
        [DECODE_WASM],
      );
      // The control: strace sees the main entry open the keeper's module and glue.
      const mainOpens = await opensOf("tokenkeeper");
      assert.ok(mainOpens.includes(KEEPER_WASM) && mainOpens.includes(KEEPER_GLUE), "strace sees the main entry");
      assert.ok(!mainOpens.includes(DECODE_WASM));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test("init() given bytes that are not its module rejects with ERR_INIT_FAILED saying so, and a later init() succeeds", async () => {
  const token = await sign({ sub: "retry" });
  for (const [specifier, file, other] of [
    ["tokenkeeper/decode", "tokenkeeper_decode_bg.wasm", KEEPER_WASM],
    ["tokenkeeper", "tokenkeeper_bg.wasm", DECODE_WASM],
  ]) {
    // In a fresh process: once init() has succeeded, it stays initialised.
    const result = await inFreshProcess(`
      import { readFile } from "node:fs/promises";
      const tk = await import(${JSON.stringify(specifier)});
      const failures = [];
      const attempt = async (input) => {
        try {
          await tk.default(input);
          failures.push("resolved");
        } catch (e) {
          failures.push({
            tokenError: e instanceof tk.TokenError,
            code: e.code,
            message: e.message,
            cause: e.cause === undefined ? null : e.cause.constructor.name,
          });
        }
      };
      await attempt(new TextEncoder().encode("<!doctype html><title>Not Found</title>"));
      await attempt(new Uint8Array(0));
      await attempt((await readFile(${JSON.stringify(specifier === "tokenkeeper" ? KEEPER_WASM : DECODE_WASM)})).subarray(0, 100));
      await attempt(await readFile(${JSON.stringify(other)}));
      await attempt(new Response("not found", { status: 404 }));
      let stillUninitialised;
      try { tk.decodeJwt("e30.e30."); } catch (e) { stillUninitialised = e.code; }
      await tk.default();
      console.log(JSON.stringify({ failures, stillUninitialised, sub: tk.decodeJwt(${JSON.stringify(token)}).sub }));`);
    const [html, empty, truncated, wrongModule, notFound] = result.failures;
    for (const f of result.failures) {
      assert.ok(f.tokenError && f.code === "ERR_INIT_FAILED", `${specifier}: ${JSON.stringify(f)}`);
      recordError(`init() of ${specifier}`, f);
    }
    assert.equal(
      html.message,
      `the tokenkeeper wasm module could not be loaded: the 39 bytes given to init() are not a WebAssembly module (a .wasm file starts with "\\0asm"): give it the contents of ${file}`,
    );
    assert.match(empty.message, /the 0 bytes given to init\(\) are not a WebAssembly module/);
    assert.equal(html.cause, null);
    // Bytes that start like a module but are not one: the engine's reason, and its error as cause.
    assert.match(truncated.message, /^the tokenkeeper wasm module could not be loaded: WebAssembly\.\w+\(\): .+/);
    assert.equal(truncated.cause, "CompileError");
    // The other entry's module: refused (its imports do not match), not taken silently.
    assert.match(wrongModule.message, /could not be loaded: WebAssembly\.\w+\(\): Import #0/);
    assert.ok(wrongModule.cause, specifier);
    assert.equal(
      notFound.message,
      "the tokenkeeper wasm module could not be loaded: the server answered 404 for the Response",
    );
    assert.equal(result.stillUninitialised, "ERR_NOT_INITIALIZED");
    assert.equal(result.sub, "retry", `${specifier}: init() succeeds after the failures`);
  }
});
