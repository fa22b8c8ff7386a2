// @ts-check
// Starts the keeper's worker: the origin's module SharedWorker, else a dedicated module Worker
// of this tab; null where neither can run. The `new SharedWorker(new URL("./worker.js",
// import.meta.url), { type: "module", ... })` spelling is the one Vite and webpack 5 recognise:
// they emit the worker script (and the wasm it loads) as assets, with no configuration.

/** @typedef {{ port: MessagePort | Worker, target: SharedWorker | Worker, shared: boolean }} Started */

/** @returns {Started | null} */
export function startWorker(/** @type {string | URL | undefined} */ workerUrl) {
  if (typeof SharedWorker === "function") {
    try {
      const worker = workerUrl
        ? new SharedWorker(workerUrl, { type: "module", name: "tokenkeeper" })
        : new SharedWorker(new URL("./worker.js", import.meta.url), { type: "module", name: "tokenkeeper" });
      return { port: worker.port, target: worker, shared: true };
    } catch {
      // Refused (a CSP without worker-src, an opaque origin): try a dedicated worker.
    }
  }
  if (typeof Worker === "function") {
    try {
      const worker = workerUrl
        ? new Worker(workerUrl, { type: "module", name: "tokenkeeper" })
        : new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "tokenkeeper" });
      return { port: worker, target: worker, shared: false };
    } catch {
      // Refused as well.
    }
  }
  return null;
}
