// What the wasm decoder alone says about each input: the package imported in a fresh Node
// process with both native base64 paths hidden (setFromBase64 and Buffer), so that the
// token's text goes into wasm whole. The native paths are held to these answers.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { deserialize, serialize } from "node:v8";
import { SCRATCH } from "./package.mjs";

/** For each input, [decodeJwt, decodeHeader, expiresAt] outcomes: `{ value }` or the error's
 *  `{ code, part, claim }`. */
export function outcomes(tk, inputs) {
  return inputs.map((t) =>
    [tk.decodeJwt, tk.decodeHeader, tk.expiresAt].map((fn) => {
      try {
        return { value: fn(t) ?? null };
      } catch (e) {
        return { code: e.code, part: e.part ?? null, claim: e.claim ?? null, message: e.message };
      }
    }),
  );
}

export async function wasmOnlyOutcomes(inputs) {
  const dir = await mkdtemp(join(tmpdir(), "tk-reference-"));
  try {
    await writeFile(join(dir, "inputs"), serialize(inputs));
    const script = `
      import { readFile, writeFile } from "node:fs/promises";
      import { deserialize, serialize } from "node:v8";
      delete Uint8Array.prototype.setFromBase64;
      const { Buffer } = globalThis;
      delete globalThis.Buffer;
      const tk = await import("tokenkeeper");
      globalThis.Buffer = Buffer;
      await tk.default();
      const outcomes = (${outcomes.toString()});
      const inputs = deserialize(await readFile(${JSON.stringify(join(dir, "inputs"))}));
      await writeFile(${JSON.stringify(join(dir, "outcomes"))}, serialize(outcomes(tk, inputs)));`;
    await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: SCRATCH });
    return deserialize(await readFile(join(dir, "outcomes")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
