// @ts-check
// The public API of the `tokenkeeper` entry, shared by its browser (index.js) and Node
// (node.js) variants, which differ only in how init() finds the .wasm.
import { decoding } from "./full.js";
import { TokenKeeper as PageKeeper } from "./keeper.js";
import { routeIsolation } from "./isolation/route.js";

export { TokenError } from "./errors.js";
export const { decodeJwt, decodeHeader, expiresAt, isExpired, secondsUntilExpiry, initSync } = decoding;

/** TokenKeeper (js/keeper.js); with `isolation: "worker"`, its proxy to the keeper's worker (API §7). */
export class TokenKeeper extends PageKeeper {
  /** @param {any} [options] */
  constructor(options) {
    const routed = routeIsolation(options);
    if (routed.keeper) return /** @type {any} */ (routed.keeper);
    super(routed.options);
  }
}
