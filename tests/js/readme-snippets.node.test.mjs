// Every JavaScript and TypeScript snippet in README.md runs as written: each is either a part
// of an example that `npm test` runs (examples/, verbatim), or it compiles on its own against
// the packed package with tsc — its imports resolve, every name it uses is declared or
// imported, and the calls type-check. Names that stand for the reader's own code are declared
// in an HTML comment right above the snippet: `<!-- context: declare const token: string; -->`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, rm, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT, SCRATCH } from "../support/package.mjs";

const run = promisify(execFile);
const LANGUAGES = new Set(["js", "jsx", "ts", "tsx"]);

/** The README's code blocks of those languages, dedented, with their line and context. */
async function readmeSnippets() {
  const lines = (await readFile(join(ROOT, "README.md"), "utf8")).split("\n");
  const snippets = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, language] = open;
    let end = i + 1;
    while (!lines[end].startsWith(`${indent}\`\`\``)) end++;
    if (LANGUAGES.has(language)) {
      const code = lines
        .slice(i + 1, end)
        .map((l) => l.slice(indent.length))
        .join("\n");
      const before = lines.slice(Math.max(0, i - 2), i).join("\n");
      const context = /<!-- context: ([\s\S]*?) -->/.exec(before)?.[1] ?? "";
      snippets.push({ line: i + 1, language, code, context });
    }
    i = end;
  }
  return snippets;
}

async function exampleFiles(dir = join(ROOT, "examples")) {
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await exampleFiles(path)));
    else if (/\.(m?js|jsx|ts|tsx)$/.test(entry.name)) files.push({ path, text: await readFile(path, "utf8") });
  }
  return files;
}

test("every js/jsx/ts snippet in README.md is a tested example's code or compiles as written", async () => {
  const snippets = await readmeSnippets();
  assert.ok(snippets.length >= 8, `found ${snippets.length} snippets`);
  const examples = await exampleFiles();
  const dir = join(SCRATCH, "readme-snippets");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const compiled = [];
  for (const snippet of snippets) {
    // A blank page otherwise: nothing works before the WebAssembly module is loaded.
    if (/from "tokenkeeper(\/react|\/vue|\/decode)?"/.test(snippet.code)) {
      assert.match(snippet.code, /await init\(\)/, `README.md line ${snippet.line} imports tokenkeeper: await init()`);
    }
    const source = examples.find((f) => f.text.includes(snippet.code));
    if (source) continue; // run by npm test as part of that example
    // As TypeScript (JavaScript is TypeScript too), as a module of its own.
    const name = `line-${snippet.line}.${snippet.language.startsWith("j") ? snippet.language.replace("j", "t") : snippet.language}`;
    await writeFile(join(dir, name), `${snippet.context}\n${snippet.code}\nexport {};\n`);
    compiled.push({ name, line: snippet.line });
  }
  assert.ok(compiled.length > 0);
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  const config = {
    compilerOptions: {
      strict: true,
      noImplicitAny: false, // a snippet's callback parameters need no annotations
      noEmit: true,
      target: "es2022",
      module: "nodenext",
      moduleResolution: "nodenext",
      lib: ["es2022", "dom", "dom.iterable"],
      jsx: "react-jsx",
      types: [],
      skipLibCheck: true,
    },
    files: compiled.map((c) => c.name),
  };
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(config, null, 2));
  try {
    await run(join(ROOT, "node_modules/.bin/tsc"), ["-p", dir], { cwd: dir });
  } catch (error) {
    const where = compiled.map((c) => `${c.name}: README.md line ${c.line}`).join("\n");
    assert.fail(`README snippets do not compile as written:\n${error.stdout}${error.stderr}\n${where}`);
  }
});
