// DPoP in Node (WebCrypto, no IndexedDB: the key pair lives in memory).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "../support/package.mjs";

let tk;
before(async () => {
  tk = await importPackage();
  await tk.default();
});

const payload = (proof) => JSON.parse(Buffer.from(proof.split(".")[1], "base64url").toString());

test("keepers made at the same time never share proof ids (each is seeded with 53 random bits)", async () => {
  const keepers = Array.from({ length: 8 }, () => new tk.TokenKeeper({ storage: "memory", dpop: true }));
  const jtis = new Set();
  for (const keeper of keepers) {
    for (let i = 0; i < 4; i++) jtis.add(payload(await keeper.dpopProof("POST", "https://id.example/token")).jti);
    keeper.dispose();
  }
  assert.equal(jtis.size, 32);
});

test("dpopProof() gives an RFC 9449 proof: header, claims, the nonce and ath when asked", async () => {
  const keeper = new tk.TokenKeeper({ storage: "memory", dpop: true });
  const proof = await keeper.dpopProof("post", "https://api.example/r?x=1#f", { nonce: "n-1", accessToken: "at" });
  const [h, , sig] = proof.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  assert.equal(header.typ, "dpop+jwt");
  assert.equal(header.alg, "ES256");
  assert.deepEqual(Object.keys(header.jwk).sort(), ["crv", "kty", "x", "y"]);
  const claims = payload(proof);
  assert.equal(claims.htm, "POST");
  assert.equal(claims.htu, "https://api.example/r");
  assert.equal(claims.nonce, "n-1");
  assert.equal(claims.ath, "sda5G2fCr6XjIpiNlGJjjTVN34oe9526mH-BXCK0uu4");
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 5);
  assert.equal(Buffer.from(sig, "base64url").length, 64);
  assert.match(await keeper.dpopThumbprint(), /^[\w-]{43}$/);
  keeper.dispose();
});

test("dpopProof() writes htm as fetch sends the method: patch stays patch, get becomes GET; a bad one is refused", async () => {
  const keeper = new tk.TokenKeeper({ storage: "memory", dpop: true });
  const htm = async (method) => payload(await keeper.dpopProof(method, "https://api.example/r")).htm;
  assert.equal(await htm("patch"), "patch");
  assert.equal(await htm("get"), "GET");
  await assert.rejects(keeper.dpopProof("GE T", "https://api.example/r"), { code: "ERR_INVALID_ARGUMENT" });
  keeper.dispose();
});
