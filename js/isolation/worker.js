// @ts-check
// The keeper's worker script: a module SharedWorker shared by the origin's tabs, or — where
// SharedWorker is missing — a dedicated Worker of one tab. It loads the wasm module once and
// runs one engine per namespace (engine.js) for the pages that connect.
import init from "../index.js";
import { Engine } from "./engine.js";

/** @typedef {import("./protocol.js").PageMessage} PageMessage */
/** @typedef {import("./engine.js").PagePort} PagePort */

const scope = /** @type {any} */ (globalThis);
const shared = typeof scope.SharedWorkerGlobalScope === "function" && scope instanceof scope.SharedWorkerGlobalScope;
const loaded = init();
/** @type {Map<string, Engine>} */
const engines = new Map();

/** Serves one page's keeper over `port`. */
function serve(/** @type {PagePort & { onmessage: any }} */ port) {
  /** @type {Engine | null} */
  let engine = null;
  // Dispatched in order (a call never overtakes its keeper's hello); carried out concurrently.
  /** @type {Promise<unknown>} */
  let dispatched = Promise.resolve();
  const dispatch = async (/** @type {PageMessage} */ message) => {
    if (!message || typeof message !== "object") return;
    if (message.t === "hello") {
      const { namespace, options, marker } = message;
      try {
        await loaded;
      } catch {
        return port.postMessage({
          t: "refused",
          error: { code: "ERR_INIT_FAILED", message: "the tokenkeeper wasm module could not be loaded in its worker" },
        });
      }
      engine = engines.get(namespace) ?? null;
      if (!engine) engines.set(namespace, (engine = new Engine(namespace, options, marker, shared)));
      return void engine.attach(port);
    }
    if (message.t === "bye") return void engine?.detach(port);
    if (message.t === "call" && engine) void engine.handle(port, message);
  };
  port.onmessage = (/** @type {MessageEvent<PageMessage>} */ event) => {
    dispatched = dispatched.then(() => dispatch(event.data));
  };
}

if (shared) scope.onconnect = (/** @type {MessageEvent} */ event) => serve(event.ports[0]);
else serve(scope);
