// Types of the `tokenkeeper/isolated` entry: TokenKeeper with isolation "worker" only, no wasm
// in the page (no init() to call).
/**
 * The {@link TokenKeeper} whose engine runs in the keeper's worker: the refresh token never
 * enters the page. The same API as the `tokenkeeper` entry's, for isolation "worker".
 * @module tokenkeeper/isolated
 */
export { TokenKeeper, TokenError } from "./index.js";
export type {
  KeeperOptions,
  KeeperEvent,
  KeeperEventMap,
  TokenSet,
  TokenResponse,
  RefreshResult,
  ClearReason,
  StorageKind,
  JwtPayload,
  JwtHeader,
  TokenErrorCode,
} from "./index.js";
