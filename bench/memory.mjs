// `npm run memory` (also part of `npm test`): wasm memory must not grow across 1,000,000
// decodes after warm-up, nor across 10,000 TokenKeeper create/dispose cycles, and no JS
// handles may leak into wasm-bindgen's externref table. Exits 1 when something grows.
import init, { decodeJwt, expiresAt, isExpired, TokenKeeper } from "../js/node.js";
import glueInit from "../pkg/tokenkeeper.js";
import { sign, typicalPayload, largePayload } from "../tests/support/tokens.mjs";

await init();
const exports = await glueInit(); // the instance already loaded: its memory and tables
const tables = Object.values(exports).filter((v) => v instanceof WebAssembly.Table);
const snapshot = () => ({
  memory: exports.memory.buffer.byteLength,
  handles: tables.reduce((n, t) => n + t.length, 0),
});

const tokens = [];
for (let i = 0; i < 64; i++) tokens.push(await sign(typicalPayload(i)));
for (let i = 0; i < 4; i++) tokens.push(await sign(largePayload(i)));
const fresh = await sign({ sub: "mem", exp: Math.floor(Date.now() / 1000) + 3600 });

function decodeRound(count) {
  let sink = 0;
  for (let i = 0; i < count; i++) {
    const t = tokens[i % tokens.length];
    switch (i % 3) {
      case 0:
        sink += decodeJwt(t).iat;
        break;
      case 1:
        sink += expiresAt(t);
        break;
      default:
        sink += isExpired(t) ? 1 : 0;
    }
    if (i % 1000 === 0) {
      try {
        decodeJwt(`${t}.x.y`);
      } catch {
        sink += 1;
      } // errors too
    }
  }
  return sink;
}

async function keeperRound(count) {
  for (let i = 0; i < count; i++) {
    const keeper = new TokenKeeper({ storage: "memory", idleTimeoutSeconds: 600 });
    keeper.on("changed", () => {});
    keeper.setTokens({ accessToken: fresh, refreshToken: `r${i}` });
    await keeper.getAccessToken();
    keeper.dispose();
    if (i % 100 === 0) await new Promise((r) => setTimeout(r, 0)); // let deferred frees run
  }
  await new Promise((r) => setTimeout(r, 0));
}

const results = [];
decodeRound(20_000);
let before = snapshot();
const started = performance.now();
decodeRound(1_000_000);
let after = snapshot();
results.push({
  what: "1,000,000 decodes (decodeJwt/expiresAt/isExpired, typical and large, some malformed)",
  before,
  after,
  seconds: (performance.now() - started) / 1000,
});

await keeperRound(200);
before = snapshot();
await keeperRound(10_000);
after = snapshot();
results.push({ what: "10,000 TokenKeeper create/setTokens/getAccessToken/dispose cycles", before, after });

let grew = false;
for (const r of results) {
  const memGrowth = r.after.memory - r.before.memory;
  const handleGrowth = r.after.handles - r.before.handles;
  grew ||= memGrowth > 0 || handleGrowth > 0;
  console.log(
    `${r.what}: wasm memory ${r.before.memory} -> ${r.after.memory} bytes (${memGrowth >= 0 ? "+" : ""}${memGrowth}), externref slots ${r.before.handles} -> ${r.after.handles}${r.seconds ? `, ${r.seconds.toFixed(1)} s` : ""}`,
  );
}
console.log(grew ? "memory: GREW" : "memory: no growth");
process.exit(grew ? 1 : 0);
