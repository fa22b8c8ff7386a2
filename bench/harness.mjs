// A small benchmark harness, the same in Node and in a Chromium page: the implementations
// of a group run in interleaved rounds (so machine noise hits them alike), each round timing
// a batch of calls; the report is the median time per call and the median of the per-round
// ratios against each baseline.

let sink = 0;
const touch = (v) => (typeof v === "number" ? v | 0 : v == null ? 0 : 1);

function timeBatch(fn, inputs, count) {
  const n = inputs.length;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) sink ^= touch(fn(inputs[i % n]));
  return ((performance.now() - t0) * 1e6) / count;
}

function batchSize(fn, inputs, minBatchMs) {
  let count = 1;
  for (;;) {
    const t0 = performance.now();
    timeBatch(fn, inputs, count);
    const dt = performance.now() - t0;
    if (dt >= minBatchMs || count > 1e8) return count;
    count *= dt < minBatchMs / 10 ? 10 : 2;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * `rows`: [{ group, impl, fn, inputs }]. Returns [{ group, impl, ns, vsJose, vsJwtDecode }].
 */
export function runGroups(rows, { rounds = 15, minBatchMs = 15, warmupMs = 2000 } = {}) {
  const out = [];
  // Warm up every implementation first: engines compile wasm and hot JS in tiers, in the
  // background, and the first group must not pay for that.
  for (const r of rows) {
    const end = performance.now() + warmupMs / rows.length;
    while (performance.now() < end) timeBatch(r.fn, r.inputs, 50);
  }
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const group of groups) {
    const members = rows.filter((r) => r.group === group);
    const sizes = members.map((m) => batchSize(m.fn, m.inputs, minBatchMs));
    const samples = members.map(() => []);
    for (let round = 0; round < rounds; round++) {
      members.forEach((m, k) => samples[k].push(timeBatch(m.fn, m.inputs, sizes[k])));
    }
    const baseline = (prefix) => members.findIndex((m) => m.impl.startsWith(prefix));
    const jose = baseline("jose");
    const jwtDecode = baseline("jwt-decode");
    const ratio = (k, b) => (b < 0 ? null : median(samples[k].map((s, r) => s / samples[b][r])));
    members.forEach((m, k) => {
      out.push({
        group,
        impl: m.impl,
        ns: median(samples[k]),
        vsJose: ratio(k, jose),
        vsJwtDecode: ratio(k, jwtDecode),
      });
    });
  }
  globalThis.__benchSink = sink;
  return out;
}

/** The same for async calls (awaited one after another): median ns per call. */
export async function runAsyncGroup(group, members, { rounds = 15, count = 20_000 } = {}) {
  const samples = members.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [k, m] of members.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) sink ^= touch(await m.fn());
      samples[k].push(((performance.now() - t0) * 1e6) / count);
    }
  }
  const base = members.findIndex((m) => m.baseline);
  return members.map((m, k) => ({
    group,
    impl: m.impl,
    ns: median(samples[k]),
    vsBaseline: median(samples[k].map((s, r) => s / samples[base][r])),
  }));
}
