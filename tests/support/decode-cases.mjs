// Bad inputs for the decoding tests, shared by the Node and Chromium suites.
import { sign, typicalPayload } from "./tokens.mjs";

const b64 = (s) => Buffer.from(s).toString("base64url");
const HEADER = b64(JSON.stringify({ alg: "HS256", typ: "JWT" }));

// One input per error code, with the part/claim it must report.
export const ERROR_CASES = [
  ["not a string", 42, "ERR_TOKEN_MALFORMED"],
  ["undefined", undefined, "ERR_TOKEN_MALFORMED"],
  ["two parts", `${HEADER}.${b64("{}")}`, "ERR_TOKEN_MALFORMED"],
  ["four parts", `${HEADER}.${b64("{}")}.a.b`, "ERR_TOKEN_MALFORMED"],
  ["empty payload", `${HEADER}..sig`, "ERR_TOKEN_MALFORMED"],
  ["empty header", `.${b64("{}")}.sig`, "ERR_TOKEN_MALFORMED"],
  ["JWE", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "ERR_TOKEN_ENCRYPTED"],
  ["plus in header", `${HEADER}+.${b64("{}")}.`, "ERR_TOKEN_BASE64", "header"],
  ["slash in payload", `${HEADER}.${b64("{}")}/.`, "ERR_TOKEN_BASE64", "payload"],
  ["space in payload", `${HEADER}.${b64("{}")} .`, "ERR_TOKEN_BASE64", "payload"],
  ["newline in payload", `${HEADER}.${b64("{}")}\n.`, "ERR_TOKEN_BASE64", "payload"],
  ["bad signature", `${HEADER}.${b64("{}")}.a+b/`, "ERR_TOKEN_BASE64", "signature"],
  ["non-ascii", `${HEADER}.é${b64("{}")}.`, "ERR_TOKEN_BASE64", "payload"],
  [
    "bad utf-8",
    `${HEADER}.${Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString("base64url")}.`,
    "ERR_TOKEN_UTF8",
    "payload",
  ],
  ["bad utf-8 header", `${Buffer.from([0xff]).toString("base64url")}.${b64("{}")}.`, "ERR_TOKEN_UTF8", "header"],
  ["bad json", `${HEADER}.${b64("{'a':1}")}.`, "ERR_TOKEN_JSON", "payload"],
  ["bad json header", `${b64("{")}.${b64("{}")}.`, "ERR_TOKEN_JSON", "header"],
  ["array payload", `${HEADER}.${b64("[1,2]")}.`, "ERR_TOKEN_NOT_OBJECT", "payload"],
  ["string header", `${b64('"x"')}.${b64("{}")}.`, "ERR_TOKEN_NOT_OBJECT", "header"],
  ["exp string", `${HEADER}.${b64('{"exp":"1700000000"}')}.`, "ERR_CLAIM_TYPE", "payload", "exp"],
  ["nbf null", `${HEADER}.${b64('{"nbf":null}')}.`, "ERR_CLAIM_TYPE", "payload", "nbf"],
  ["iat object", `${HEADER}.${b64('{"iat":{}}')}.`, "ERR_CLAIM_TYPE", "payload", "iat"],
];

/** Hundreds of malformed tokens built around distinctive, random-looking segments. */
export async function malformedTokens() {
  const out = [];
  for (let i = 0; i < 60; i++) {
    const t = await sign({ ...typicalPayload(i), secret: `s3cr3t-${i}-${Math.random().toString(36).slice(2)}` });
    const [h, p, s] = t.split(".");
    out.push(
      `${h}.${p}`,
      `${h}.${p}.${s}.x.y`,
      `${h}+.${p}.${s}`,
      `${h}.${p.slice(0, -3)}*.${s}`,
      `${h}.${p.slice(0, 1 + (i % (p.length - 1)))}.${s}`,
      `${h}.${b64(Buffer.from(p, "base64url").toString().slice(0, -1))}.${s}`,
      `${h}.${b64(`[${Buffer.from(p, "base64url").toString()}]`)}.${s}`,
      `${h}.${b64(
        Buffer.from(p, "base64url")
          .toString()
          .replace(/"exp":\d+/, '"exp":"never"'),
      )}.${s}`,
      `${b64("not json " + h)}.${p}.${s}`,
      `${h}.${Buffer.concat([Buffer.from(p, "base64url"), Buffer.from([0xff])]).toString("base64url")}.${s}`,
    );
  }
  return out;
}

/** Tokens at the edges of base64url, where a native decoder's rules and ours could differ:
 *  whitespace, padding, non-canonical trailing bits, impossible lengths, non-ASCII, dots.
 *  Each around a short token and around a long one (Node's native path starts at 1 KB). */
export async function base64EdgeTokens() {
  const out = [];
  const short = await sign({ sub: "edge", exp: 1_900_000_000 });
  const long = await sign({
    sub: "edge",
    exp: 1_900_000_000,
    roles: Array.from({ length: 120 }, (_, k) => `role-${k}`),
  });
  for (const t of [short, long]) {
    const [h, p, s] = t.split(".");
    const payloads = [
      p,
      `${p}=`,
      `${p}==`,
      `${p}===`,
      `${p} `,
      ` ${p}`,
      `${p}\t`,
      `${p}\n`,
      `${p}\r\n`,
      `${p}\f`,
      `${p.slice(0, 4)} ${p.slice(4)}`,
      `${p.slice(0, 4)}    ${p.slice(4)}`,
      `${p.slice(0, 8)}\n${p.slice(8, -2)}`,
      `${p.slice(0, -1)}`,
      `${p.slice(0, -2)}`,
      `${p.slice(0, -3)}`,
      `${p}A`,
      `${p}AA`,
      `${p}AAA`,
      `${p}AAAA`,
      `${p.slice(0, 4)}=${p.slice(4)}`,
      `${p.slice(0, 4)}==${p.slice(4)}`,
      `${p}+`,
      `${p}/`,
      `${p.replace(/_/g, "/")}`,
      `${p.replace(/-/g, "+")}`,
      `${p}é`,
      `${p}\ud800`,
      `${p}😀`,
      `${p.slice(0, 10)}\u0000${p.slice(10)}`,
      `${p}${"e30".padStart(4, "A")}`,
      `${p}e31`,
      `${p}YR`,
    ];
    for (const payload of payloads) out.push(`${h}.${payload}.${s}`);
    for (const signature of [
      "",
      "a",
      "ab",
      "abc",
      "abcd",
      "AQ",
      "AR",
      "AQ==",
      "a b",
      "é",
      "\u0000",
      "ab.cd",
      "a.b.c",
      s + "=",
    ]) {
      out.push(`${h}.${p}.${signature}`);
    }
    for (const header of [`${h}é`, `${h} `, `${h}=`, h.slice(0, -1), `é${h}`, "", "e30"])
      out.push(`${header}.${p}.${s}`);
    out.push(`${h}.${p}`, `${h}..${s}`, `${h}.${p}.${s}.x`, `${h}.${p}.${s}.x.y`, `.${p}.${s}`);
  }
  for (const p of ["e30", "e30=", "e31", "e32", "e33", "eyJ9", "YQ", "YQ=", "YQ==", "YR", "YR=="])
    out.push(`e30.${p}.`);
  // Around the 1 MiB limit: a valid token just under it, and one character over.
  const near = await sign({ sub: "edge", pad: "x".repeat(((1 << 20) * 3) / 4 - 400) });
  out.push(near, `${near}A`.padEnd((1 << 20) + 1, "A"), "..", "...", "....");
  return out;
}

/** Tokens that share one good token's header, each asked about right after that token and
 *  then again: the decoders skip a header they accepted before and answer a repeated token
 *  from its last call, and must still give the whole-token answer. Bad signatures (short and
 *  RSA-sized, padded, non-canonical, more segments) and bad payloads (base64, UTF-8, a byte
 *  order mark, JSON, claim types) behind the known header. `padTo` lengthens the payload
 *  (Node's native paths start at 1 KB). */
export async function sharedHeaderTokens(padTo = 0) {
  const good = await sign({ sub: "shared-header", exp: 2_000_000_000, pad: "x".repeat(padTo) });
  const [h, p, s] = good.split(".");
  const b64 = (text) => Buffer.from(text).toString("base64url");
  const rsaSized = Buffer.from(Array.from({ length: 256 }, (_, k) => (k * 37 + 11) & 0xff)).toString("base64url");
  const signatures = [
    "",
    rsaSized,
    `${rsaSized}=`,
    `${rsaSized.slice(0, -1)}B`,
    `${rsaSized.slice(0, 100)}+${rsaSized.slice(101)}`,
    `${rsaSized.slice(0, 100)} ${rsaSized.slice(101)}`,
    `${s}=`,
    `${s.slice(0, -1)}B`,
    `${s.slice(1)}`,
    `${s.slice(2)}`,
    `${s}+`,
    `${s} `,
    `${s}é`,
    `${s}.x`,
    `${s}.x.y`,
    `${rsaSized}.x.y`,
  ];
  const payloads = [
    `${p}=`,
    `${p.slice(0, -1)}`,
    `${p} `,
    `${p.replace(/-/g, "+")}`,
    `${p}é`,
    "",
    b64("\ufeff{}"),
    Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url"),
    b64("[]"),
    b64("{"),
    b64('{"exp":"soon"}'),
    b64('{"nbf":null}'),
    b64('{"exp":1,"exp":"x"}'),
    b64('{"exp":1,"exp":2}'),
  ];
  const variants = [
    ...signatures.map((sig) => `${h}.${p}.${sig}`),
    ...payloads.map((payload) => `${h}.${payload}.${s}`),
    `${h}.${p}`,
    `${h}x.${p}.${s}`,
    `${h.slice(0, -1)}.${p}.${s}`,
  ];
  return variants.flatMap((t) => [good, t, t]);
}
