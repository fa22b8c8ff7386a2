// A tiny benchmark harness: time batches of calls, report the median time per call.
// Used the same way in Node and (through a page) in Chromium, so ratios compare like with like.

/** Median nanoseconds per call of `fn(inputs[i % n])` over `batches` batches. */
export function medianNs(fn, inputs, { batches = 31, minBatchMs = 20 } = {}) {
  const n = inputs.length;
  let sink = 0;
  // Warm up, and size a batch to last about minBatchMs.
  let perBatch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) sink ^= touch(fn(inputs[i % n]));
    const dt = performance.now() - t0;
    if (dt >= minBatchMs || perBatch > 1e8) break;
    perBatch *= dt < minBatchMs / 10 ? 10 : 2;
  }
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < perBatch; i++) sink ^= touch(fn(inputs[i % n]));
    samples.push(((performance.now() - t0) * 1e6) / perBatch);
  }
  samples.sort((a, b) => a - b);
  globalThis.__benchSink = sink;
  return samples[samples.length >> 1];
}

function touch(v) {
  return typeof v === "number" ? v | 0 : v == null ? 0 : 1;
}

/** Rows of { name, size, workload, impl, ns } into rows with a ratio against each baseline. */
export function withRatios(rows) {
  return rows.map((r) => {
    const peers = rows.filter((o) => o.group === r.group);
    const jose = peers.find((o) => o.impl.startsWith("jose"));
    const jwtDecode = peers.find((o) => o.impl.startsWith("jwt-decode"));
    return {
      ...r,
      vsJose: jose ? r.ns / jose.ns : null,
      vsJwtDecode: jwtDecode ? r.ns / jwtDecode.ns : null,
    };
  });
}
