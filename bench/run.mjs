// Runs the benchmarks and prints a table of medians and ratios; writes bench/report.json and
// bench/report.md. Timings are reported, never asserted.
import { writeFile } from "node:fs/promises";
import { benchNode, makeTokens } from "./node.mjs";

const tokens = await makeTokens();
console.log(`tokens: typical ${tokens.typical[0].length} chars, large ${tokens.large[0].length} chars`);
const results = { node: await benchNode(tokens) };

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const ratio = (r) => (r == null ? "" : `${r.toFixed(2)}×`);
const lines = [`| runtime | case | implementation | median | vs jose | vs jwt-decode |`, `|---|---|---|---|---|---|`];
for (const [runtime, rows] of Object.entries(results)) {
  for (const r of rows) {
    lines.push(`| ${runtime} | ${r.group} | ${r.impl} | ${fmt(r.ns)} | ${ratio(r.vsJose)} | ${ratio(r.vsJwtDecode)} |`);
  }
}
const table = lines.join("\n");
console.log(table);
await writeFile(new URL("./report.json", import.meta.url), JSON.stringify({ tokens: { typical: tokens.typical[0].length, large: tokens.large[0].length }, results }, null, 2));
await writeFile(new URL("./report.md", import.meta.url), table + "\n");
