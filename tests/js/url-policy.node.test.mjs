// Configured URLs and the allow-list against the platform's URL parser, over a generated
// corpus: each allowedOrigins entry and endpoint is taken or refused by the packed keeper as
// a reference written here over `new URL()` says, and for each entry taken, keeper.fetch
// allows exactly the request URLs the reference allows. keeper.fetch decides before anything
// else (its `mayFetch` call); an allowed URL then needs a token, and a keeper without one
// rejects with ERR_NO_TOKEN: so no request is ever made and no network stub is needed.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";

let tk;
before(async () => {
  tk = await importPackage();
  await tk.default();
});

// ---- The reference policy (API §3, "Secure URLs" and "Allow-list"), over new URL() ----

/** Text the parser would read differently from how it is written: whitespace and controls
 *  (dropped silently), backslashes (read as /), and no `scheme://host` (relative,
 *  `https:host`, `https:///host`). Refused as written. */
const misleading = (text) => /[\0-\x20\x7f\\]/.test(text) || !/^[a-z][a-z\d+.-]*:\/\/[^/]/i.test(text);

const isLoopback = (hostname) =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** The URL a configured text stands for, or null where the keeper must refuse it. */
function reference(text, kind) {
  if (misleading(text)) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.protocol === "http:" && !isLoopback(url.hostname)) return null;
  if (url.username !== "" || url.password !== "") return null;
  if (url.href.includes("#")) return null; // a fragment, even an empty one
  if (kind === "entry" && (url.href.includes("?") || !url.pathname.endsWith("/"))) return null;
  return url;
}

/** After a path prefix, what a server that decodes before routing could send elsewhere. */
const escapesThePrefix = (rest) => /%(2f|5c|2e|25)/i.test(rest) || rest.split("/").some((s) => /^\.{1,2};/.test(s));

/** Whether a request URL (resolved as fetch resolves it; Node has no base URL) is inside an entry. */
function referenceAllows(input, entry) {
  let url;
  try {
    url = new URL(input);
  } catch {
    return false;
  }
  if (url.username !== "" || url.password !== "") return false;
  if (url.origin !== entry.origin || !url.pathname.startsWith(entry.pathname)) return false;
  return entry.pathname === "/" || !escapesThePrefix(url.pathname.slice(entry.pathname.length));
}

// ---- The corpus ----

const SCHEMES = ["https://", "http://", "HTTPS://", "hTTp://", "ftp://", "https:", "//", "https:\\\\"];
const HOSTS = [
  "api.example.com",
  "API.Example.COM",
  "a_b.example",
  "bücher.de",
  "BÜCHER.de",
  "xn--bcher-kva.de",
  "ｅｘａｍｐｌｅ.com",
  "example.com.",
  "ex%61mple.com",
  "127.0.0.1",
  "127.1",
  "0x7f.0.0.1",
  "2130706433",
  "127.0.0.1.",
  "0177.0.0.1",
  "localhost",
  "LOCALHOST",
  "localhost.",
  "localhost.evil.example",
  "[::1]",
  "[0:0:0:0:0:0:0:1]",
  "[::ffff:127.0.0.1]",
  "[2001:DB8::1]",
  "user@api.example.com",
  "user:pw@localhost",
  "api.example.com@evil.example",
  "@api.example.com",
  "1.2.3.4.5",
  "999.0.0.1",
  "[::1",
  "a b.example",
  "a\tb.example",
];
const PORTS = ["", ":443", ":80", ":8443", ":08443", ":", ":65536"];
const PATHS = [
  "",
  "/",
  "/v2",
  "/v2/",
  "/V2/",
  "/v2//",
  "/v2/../v1/",
  "/v2/%2e%2e/v1/",
  "/v2/.%2E/",
  "/a/./b/",
  "/v2/..",
  "/café/",
  "/a%20b/",
  "/a b/",
  "/a\nb/",
  "\\v2\\",
  "/v2/?",
  "/v2/?q=1",
  "/#",
  "/v2/#x",
];

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Request URLs around an entry: its own forms, neighbours, and the classic escapes. */
function requestsFor(text, entry) {
  const p = entry.pathname;
  const bare = p.slice(0, -1);
  const other = entry.protocol === "https:" ? "http://" : "https://";
  const schemes = [`${entry.protocol}//`, `${entry.protocol.toUpperCase()}//`, other];
  const written = text.slice(text.indexOf("//") + 2).split("/")[0];
  const hosts = [
    written,
    entry.host,
    `${entry.hostname}:8443`,
    `${entry.hostname}.evil.example`,
    `user@${entry.host}`,
    `${entry.host}@evil.example`,
    "api.example.com",
  ];
  const paths = [
    p,
    `${p}x`,
    bare,
    `${bare}-admin/`,
    `${p}../v1/`,
    `${p}%2e%2e/v1/`,
    `${p}..%2fadmin`,
    `${p}%2E%2E%2Fadmin`,
    `${p}..%5cadmin`,
    `${p}%252e%252e/`,
    `${p}..;/admin`,
    `${p}a/.;/b`,
    `${p}...;/b`,
    `${p}x?y=..%2f#z`,
    `${p.toUpperCase()}x`,
    `${p}a b`,
    `${p}\\..\\admin`,
    `${p}\t/x`,
    "/",
  ];
  const all = [];
  for (const s of schemes) for (const h of hosts) for (const q of paths) all.push(`${s}${h}${q}`);
  all.push(`${p}x`, "x", `//${entry.host}${p}`);
  return all;
}

/** The keeper's answer to a configuration: null when the constructor refuses it. */
function keeperFor(options, optionName) {
  try {
    return new tk.TokenKeeper({ storage: "memory", crossTab: false, ...options });
  } catch (e) {
    assert.equal(e.code, "ERR_INVALID_ARGUMENT");
    assert.ok(e.message.startsWith(optionName), e.message);
    return null;
  }
}

/** "allowed", "not-allowed", or the unexpected code: keeper.fetch's decision on `input`. */
async function decision(keeper, input) {
  try {
    await keeper.fetch(input);
    return "fetched";
  } catch (e) {
    if (e.code === "ERR_NO_TOKEN") return "allowed";
    if (e.code === "ERR_FETCH_NOT_ALLOWED") return "not-allowed";
    return e.code;
  }
}

/** Shares of the generated corpus run: the whole of it (~36,000 entries, ~700,000 pairs,
 *  ~25 s) with TOKENKEEPER_URL_CORPUS=full; by default a deterministic sample of a few s. */
const FULL = process.env.TOKENKEEPER_URL_CORPUS === "full";
const ENTRY_SHARE = FULL ? 1 : 0.25;
const ENDPOINT_SHARE = 0.2;
const REQUEST_SHARE = FULL ? 1 : 0.08;

test("configured URLs and keeper.fetch's allow-list agree with new URL() over 10,000+ entries × request URLs", async () => {
  const started = Date.now();
  const next = random(17);
  const texts = [];
  for (const s of SCHEMES)
    for (const h of HOSTS) for (const p of PORTS) for (const q of PATHS) texts.push(s + h + p + q);

  let configured = 0;
  let pairs = 0;
  let allowed = 0;
  const taken = [];
  const mismatches = [];
  for (const text of texts) {
    if (next() >= ENTRY_SHARE) continue;
    const entry = reference(text, "entry");
    const keeper = keeperFor({ allowedOrigins: [text] }, "allowedOrigins");
    configured += 1;
    if ((keeper !== null) !== (entry !== null)) {
      mismatches.push(`allowedOrigins ${JSON.stringify(text)}: keeper ${keeper ? "took" : "refused"} it`);
    }
    if (keeper && entry) taken.push([text, entry, keeper]);
    else keeper?.dispose();

    // Endpoints on a sample (each keeper costs a construction): a query is fine, a fragment not.
    if (next() < ENDPOINT_SHARE) {
      const endpoint = reference(text, "endpoint");
      const k = keeperFor({ oauth: { tokenEndpoint: text, clientId: "spa" } }, "oauth.tokenEndpoint");
      configured += 1;
      if ((k !== null) !== (endpoint !== null)) {
        mismatches.push(`oauth.tokenEndpoint ${JSON.stringify(text)}: keeper ${k ? "took" : "refused"} it`);
      }
      k?.dispose();
    }
  }

  for (const [text, entry, keeper] of taken) {
    const requests = requestsFor(text, entry);
    // Every entry's own canonical URL, and a deterministic sample of the rest.
    for (const input of requests) {
      if (input !== requests[0] && next() >= REQUEST_SHARE) continue;
      const expected = referenceAllows(input, entry) ? "allowed" : "not-allowed";
      const got = await decision(keeper, input);
      pairs += 1;
      if (got === "allowed") allowed += 1;
      if (got !== expected) mismatches.push(`entry ${JSON.stringify(text)}, request ${JSON.stringify(input)}: ${got}`);
    }
    // The refusal names the list in force, in the canonical form the user can compare with.
    const outside = await keeper.fetch("https://elsewhere.example/").catch((e) => e);
    assert.ok(outside.message.includes(entry.href), outside.message);
    keeper.dispose();
  }

  const seconds = (Date.now() - started) / 1000;
  console.log(
    `url-policy corpus: ${configured} configurations (${taken.length} entries taken), ` +
      `${pairs} entry × request pairs (${allowed} allowed), ${seconds.toFixed(1)} s`,
  );
  assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} disagreements with new URL()`);
  assert.ok(pairs >= 10_000 && taken.length >= 100, `only ${pairs} pairs over ${taken.length} entries`);
  assert.ok(allowed >= 1000 && pairs - allowed >= 1000, `${allowed} of ${pairs} allowed: the corpus is lopsided`);
});

test("forms the URL parser rewrites are taken as it rewrites them", async () => {
  // Each was refused while the keeper had a URL canonicaliser of its own, though browsers
  // fetch them.
  for (const [entry, inside, outside] of [
    ["https://a_b.example", "https://a_b.example/x", "https://ab.example/x"],
    ["https://bücher.de/v2/", "https://xn--bcher-kva.de/v2/x", "https://xn--bcher-kva.de/v1/"],
    ["http://127.1:8080", "http://127.0.0.1:8080/api", "http://127.0.0.2:8080/api"],
    ["http://[0:0::1]", "http://[::1]/x", "http://[::2]/x"],
    ["HTTPS://API.Example.COM:443/V2/", "https://api.example.com/V2/x", "https://api.example.com/v2/x"],
  ]) {
    const keeper = new tk.TokenKeeper({ storage: "memory", crossTab: false, allowedOrigins: [entry] });
    assert.equal(await decision(keeper, inside), "allowed", `${inside} under ${entry}`);
    assert.equal(await decision(keeper, outside), "not-allowed", `${outside} under ${entry}`);
    keeper.dispose();
  }
});

test("a refused URL option is ERR_INVALID_ARGUMENT naming the option and saying why, without echoing the URL", () => {
  for (const [options, message] of [
    [{ allowedOrigins: ["https://[::1:8443/q7Hx"] }, "allowedOrigins is not a URL that new URL() accepts"],
    [
      { allowedOrigins: ["https://api.example/q7Hx\n.evil/"] },
      "allowedOrigins must not contain spaces, tabs, newlines",
    ],
    [{ allowedOrigins: ["https://q7Hx@api.example/"] }, "allowedOrigins must not contain a user name or password"],
    [
      { oauth: { clientId: "spa", tokenEndpoint: "https://id.example\\q7Hx/token" } },
      "oauth.tokenEndpoint must not contain backslashes",
    ],
    [
      { oauth: { clientId: "spa", tokenEndpoint: "https:id.example/q7Hx" } },
      "oauth.tokenEndpoint must be an absolute URL",
    ],
  ]) {
    let error;
    try {
      new tk.TokenKeeper({ storage: "memory", crossTab: false, ...options }).dispose();
    } catch (e) {
      error = e;
    }
    assert.equal(error?.code, "ERR_INVALID_ARGUMENT", message);
    assert.ok(error.message.startsWith(message), error.message);
    assert.ok(!error.message.includes("q7Hx"), error.message);
  }
});
