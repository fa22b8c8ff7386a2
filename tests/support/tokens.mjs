// Tokens for tests and benchmarks, made with jose (HS256 and unsecured), so that the
// corpus comes from an implementation nobody here wrote.
import { SignJWT, UnsecuredJWT } from "jose";
import { recordToken } from "./leak-scan.mjs";

const SECRET = new TextEncoder().encode("a-test-secret-that-is-long-enough-for-hs256");

export async function sign(payload, header = {}) {
  const token = await new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header }).sign(SECRET);
  recordToken(token);
  return token;
}

/** Re-encodes every segment with `=` padding, which the decoders must accept too. */
export function padded(token) {
  return token
    .split(".")
    .map((s) => (s === "" ? s : s + "=".repeat((4 - (s.length % 4)) % 4)))
    .join(".");
}

/** A typical access token (~350 characters), as identity providers issue them. */
export function typicalPayload(i = 0) {
  return {
    iss: "https://issuer.example.com/",
    sub: `auth0|64f1c9e2b7a1d3${String(i).padStart(6, "0")}`,
    aud: ["https://api.example.com", "https://issuer.example.com/userinfo"],
    iat: 1_700_000_000 + i,
    exp: 1_700_003_600 + i,
    azp: "c1ientIdAbcDef012345",
    scope: "openid profile email offline_access",
    jti: `jti-${i}`,
  };
}

/** A large token (~10 KB): many roles and permissions, as some providers put in. */
export function largePayload(i = 0) {
  const permissions = Array.from({ length: 230 }, (_, k) => `resource-${k}:read-write`);
  return { ...typicalPayload(i), permissions, groups: { admin: false, nested: { deep: [1, 2, 3] } } };
}

export async function corpus() {
  const payloads = [
    {},
    typicalPayload(1),
    largePayload(2),
    { sub: "ünïcödé ✓", name: "Zoë 😀🎉", emoji: "👩‍👩‍👧‍👦", rtl: "مرحبا", cjk: "漢字" },
    { nested: { a: { b: { c: [1, [2, [3, { d: null }]]] } } }, list: [true, false, null, 1.5e-7, -0] },
    { exp: 1_700_000_000.75, nbf: 1_699_999_000.5, iat: 1_699_999_999.25 },
    { exp: 32503680000, iat: 0, aud: "single-audience" },
    { escapes: 'quote " backslash \\ slash / tab \t newline \n', controlish: "\u0001\u001f" },
    { big: 12345678901234567890, small: -1e-300, ints: [0, -1, 9007199254740993] },
  ];
  const headers = [{}, { kid: "key-1" }, { cty: "JWT", custom: { x: [1] } }];
  const tokens = [];
  for (const [i, p] of payloads.entries()) {
    const t = await sign(p, headers[i % headers.length]);
    tokens.push(t, padded(t));
    tokens.push(new UnsecuredJWT(p).encode());
  }
  return tokens;
}
