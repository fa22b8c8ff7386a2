// `npm run docs`: TypeDoc over the shipped type declarations, with warnings as errors
// (typedoc.json), so that a broken {@link}, an unexported type the docs need or a malformed
// comment fails `npm test` rather than the published reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/package.mjs";

test(
  "npm run docs builds the API reference of every shipped entry without a warning",
  { timeout: 60_000 },
  async () => {
    const out = await mkdtemp(join(tmpdir(), "tokenkeeper-docs-"));
    try {
      const { code, output } = await new Promise((resolve) => {
        execFile(
          "npm",
          ["run", "docs", "--", "--out", out],
          { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } },
          (error, stdout, stderr) => resolve({ code: error ? error.code : 0, output: `${stdout}\n${stderr}` }),
        );
      });
      assert.equal(code, 0, output);
      assert.doesNotMatch(output, /\[(warning|error)\]/i, output);
      const entries = ["index", "decode", "isolated", "testing", "react", "vue"].filter((name) =>
        existsSync(join(ROOT, `js/${name}.d.ts`)),
      );
      const modules = await readdir(join(out, "modules"));
      assert.equal(modules.length, entries.length, `one page per entry: ${modules.join(", ")}`);
      for (const page of ["tokenkeeper.html", "tokenkeeper_decode.html", "tokenkeeper_testing.html"]) {
        assert.ok(modules.includes(page), `${page} in ${modules.join(", ")}`);
      }
      assert.ok(existsSync(join(out, "classes/tokenkeeper.TokenKeeper.html")));
      const functions = await readdir(join(out, "functions"));
      assert.ok(functions.includes("tokenkeeper_decode.init.html"), `init by its name: ${functions.join(", ")}`);
      assert.ok(!functions.some((f) => f.endsWith(".default.html")), `no "default": ${functions.join(", ")}`);
      const types = await readdir(join(out, "types"));
      assert.ok(!types.some((f) => f.includes(".Platform")), `internal helper types hidden: ${types.join(", ")}`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  },
);
