// @ts-check
// The `tokenkeeper/isolated` entry: TokenKeeper with isolation "worker" only (API §7). The
// engine and its wasm module load in the keeper's worker; nothing here loads wasm, and the page
// never holds the refresh token. No init() to call.
import { capturePlatform } from "./runtime/globals.js";

capturePlatform(); // keeper.fetch uses fetch as it is now, not as later wrapped

export { IsolatedKeeper as TokenKeeper } from "./isolation/proxy.js";
export { TokenError } from "./errors.js";
