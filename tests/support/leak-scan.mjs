// One token-leak scan over the whole JavaScript test run. Test processes record the tokens
// they see issued and the texts a user or an error tracker would see — console lines, page
// errors, request URLs, keeper event details, TokenError messages — into
// tests/.scratch/leak-scan/; after the run, `node tests/support/leak-scan.mjs --check` fails
// when any text holds any 8-character slice of any token.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../.scratch/leak-scan/", import.meta.url));
const tokens = new Set();
/** @type {[string, string][]} */
const texts = [];

/** A token issued in this test process. */
export function recordToken(token) {
  if (typeof token === "string" && token.length >= 8) tokens.add(token);
}

/** A text that must never hold token text, and where it was seen. */
export function recordText(where, text) {
  texts.push([where, String(text)]);
}

/** A TokenError (or any error) a caller received. */
export function recordError(where, error) {
  recordText(where, `${error?.name}: ${error?.code} ${error?.message} ${error?.part ?? ""} ${error?.claim ?? ""}`);
}

process.on("exit", () => {
  if (tokens.size === 0 && texts.length === 0) return;
  mkdirSync(DIR, { recursive: true });
  writeFileSync(`${DIR}${process.pid}-${Date.now()}.json`, JSON.stringify({ tokens: [...tokens], texts }));
});

/** Every 8-character slice of each dot-separated segment of each token. */
export function tokenSlices(all) {
  const slices = new Set();
  for (const token of all) {
    for (const segment of String(token).split(".")) {
      for (let k = 0; k + 8 <= segment.length; k++) slices.add(segment.slice(k, k + 8));
    }
  }
  return slices;
}

function check() {
  let files = [];
  try {
    files = readdirSync(DIR).filter((f) => f.endsWith(".json"));
  } catch {
    // nothing recorded
  }
  const allTokens = new Set();
  const allTexts = [];
  for (const file of files) {
    const { tokens: t, texts: x } = JSON.parse(readFileSync(DIR + file, "utf8"));
    for (const token of t) allTokens.add(token);
    allTexts.push(...x);
  }
  const slices = tokenSlices(allTokens);
  let hits = 0;
  for (const [where, text] of allTexts) {
    for (let k = 0; k + 8 <= text.length; k++) {
      if (slices.has(text.slice(k, k + 8))) {
        hits += 1;
        console.error(`leak-scan: token text in ${where} (at ${k} of ${text.length} characters)`);
        break;
      }
    }
  }
  console.log(
    `leak-scan: ${allTexts.length} texts from ${files.length} test processes against ${allTokens.size} tokens: ${hits} with token text`,
  );
  if (hits > 0 || allTokens.size === 0) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes("--check")) check();
