// `npm run bench`: medians and ratios against jose and jwt-decode, in Node and in Chromium,
// each runtime in one process. Writes bench/report.json and bench/report.md. Timings are
// reported, never asserted.
import { writeFile } from "node:fs/promises";
import { TokenKeeper } from "../js/node.js";
import { benchGetAccessToken, benchNodeDecoding, benchStartup, makeTokens } from "./node.mjs";
import { benchChromium } from "./browser.mjs";
import { sign, typicalPayload } from "../tests/support/tokens.mjs";

const tokens = await makeTokens();
// For getAccessToken(): a token that stays fresh for the whole run.
tokens.fresh = await sign({ ...typicalPayload(0), exp: Math.floor(Date.now() / 1000) + 86_400 });
const sizes = { short: tokens.short[0].length, typical: tokens.typical[0].length, large: tokens.large[0].length };
const sizeLine = `short ${sizes.short} chars, typical ${sizes.typical} chars, large ${sizes.large} chars`;
console.log(`tokens: ${sizeLine}`);

const node = await benchNodeDecoding(tokens);
const nodeAccess = await benchGetAccessToken(TokenKeeper, tokens.fresh);
const startup = await benchStartup(tokens.typical[0]);
const chromium = await benchChromium(tokens);

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const ratio = (r) => (r == null ? "" : `${r.toFixed(2)}×`);
const lines = [
  `Tokens: ${sizeLine}. Median per call; ratios are medians of per-round ratios.`,
  "",
  "| runtime | case | implementation | median | vs jose | vs jwt-decode |",
  "|---|---|---|---|---|---|",
];
for (const [runtime, rows] of [
  ["node", node],
  ["chromium", chromium.decoding],
]) {
  for (const r of rows)
    lines.push(`| ${runtime} | ${r.group} | ${r.impl} | ${fmt(r.ns)} | ${ratio(r.vsJose)} | ${ratio(r.vsJwtDecode)} |`);
}
lines.push(
  "",
  "| runtime | case | implementation | median | vs awaiting a resolved promise |",
  "|---|---|---|---|---|",
);
for (const [runtime, rows] of [
  ["node", nodeAccess],
  ["chromium", chromium.access],
]) {
  for (const r of rows) lines.push(`| ${runtime} | ${r.group} | ${r.impl} | ${fmt(r.ns)} | ${ratio(r.vsBaseline)} |`);
}
lines.push(
  "",
  `| node | ${startup.group} | tokenkeeper ${startup.ms.toFixed(1)} ms | jose ${startup.joseMs.toFixed(1)} ms | ${ratio(startup.vsJose)} |`,
);
const table = lines.join("\n");
console.log(table);
const report = {
  date: new Date().toISOString(),
  node: process.version,
  tokens: sizes,
  results: { node, chromium: chromium.decoding, access: { node: nodeAccess, chromium: chromium.access }, startup },
};
await writeFile(new URL("./report.json", import.meta.url), JSON.stringify(report, null, 2));
await writeFile(new URL("./report.md", import.meta.url), table + "\n");
