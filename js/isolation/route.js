// @ts-check
// The `tokenkeeper` entry's TokenKeeper with the isolation options: isolation "worker" gets
// the proxy (proxy.js), "page" (the default) the keeper of js/keeper.js, without these two
// options, which only the page side reads.
import { invalidArgument } from "../errors.js";
import { IsolatedKeeper } from "./proxy.js";

/** @returns {{ keeper: IsolatedKeeper, options?: undefined } | { keeper?: undefined, options: unknown }} */
export function routeIsolation(/** @type {unknown} */ options) {
  if (options === null || typeof options !== "object" || !("isolation" in options || "workerUrl" in options)) {
    return { options };
  }
  const { isolation, workerUrl, ...rest } = /** @type {Record<string, unknown>} */ (options);
  if (isolation === "worker") return { keeper: new IsolatedKeeper(options) };
  if (isolation !== undefined && isolation !== "page") throw invalidArgument('isolation must be "page" or "worker"');
  if (workerUrl !== undefined) throw invalidArgument('workerUrl is an option of isolation "worker"');
  return { options: rest };
}
