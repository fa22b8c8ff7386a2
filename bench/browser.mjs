// The Chromium part of `npm run bench`: the same cases, in one headless Chromium page.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "../tests/support/browser.mjs";
import { serveStatic } from "../tests/support/static-server.mjs";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

export async function benchChromium(tokens) {
  const dir = await mkdtemp(join(tmpdir(), "tk-bench-"));
  await build({
    entryPoints: [join(ROOT, "bench/browser-entry.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    outfile: join(dir, "bench.js"),
    logLevel: "silent",
  });
  await writeFile(
    join(dir, "index.html"),
    '<!doctype html><link rel="icon" href="data:,"><script type="module" src="bench.js"></script>',
  );
  const site = await serveStatic({ "/": dir, "/pkg": join(ROOT, "pkg") });
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => window.benchReady === true);
    return await page.evaluate((tokens) => window.runBench(tokens), tokens);
  } finally {
    await browser.close();
    await site.close();
  }
}
