// The public API, shared by the browser entry (index.js) and the Node entry (node.js), which
// differ only in how init() finds the .wasm.
export {
  TokenError,
  decodeJwt,
  decodeHeader,
  expiresAt,
  isExpired,
  secondsUntilExpiry,
  initSync,
} from "./core.js";
export { TokenKeeper } from "./keeper.js";
