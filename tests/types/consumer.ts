// Compiled with `tsc --noEmit --strict` against the installed package: the shipped types
// must describe the API (and reject misuse, see the @ts-expect-error lines).
import init, {
  decodeHeader,
  decodeJwt,
  expiresAt,
  isExpired,
  secondsUntilExpiry,
  TokenError,
  TokenKeeper,
  type TokenSet,
  type RefreshResult,
  type JwtHeader,
  type JwtPayload,
} from "tokenkeeper";

await init();
const token: string = "a.b.c";

const payload: JwtPayload = decodeJwt(token);
const exp: number | undefined = payload.exp;
const aud: string | string[] | undefined = payload.aud;
const header: JwtHeader = decodeHeader(token);
const alg: string | undefined = header.alg;

interface MyClaims extends JwtPayload {
  roles: string[];
}
const mine = decodeJwt<MyClaims>(token);
const roles: string[] = mine.roles;

const at: number | undefined = expiresAt(token);
const expired: boolean = isExpired(token, { leewaySeconds: 30, now: Date.now() });
const left: number | undefined = secondsUntilExpiry(token, { now: new Date() });

try {
  decodeJwt(token);
} catch (e) {
  if (e instanceof TokenError) {
    const code: string = e.code;
    const part: "header" | "payload" | "signature" | undefined = e.part;
    console.log(code, part, e.claim, e.message);
  }
}

const keeper = new TokenKeeper({ namespace: "app", storage: "local", idleTimeoutSeconds: 900 });
keeper.setTokens({ accessToken: token, refreshToken: "r", expiresIn: 300 }, { remember: true });
const fresh: Promise<string> = keeper.getAccessToken();
const renewed: Promise<RefreshResult> = keeper.refresh();
const response: Promise<Response> = keeper.fetch("/api", { method: "POST", body: "x" });
const refreshing = new TokenKeeper({
  refresh: async (current: TokenSet) => ({ accessToken: current.accessToken, refreshToken: "r2", expiresIn: 60 }),
  retry: { maxAttempts: 3 },
});
const viaOAuth = new TokenKeeper({
  oauth: { tokenEndpoint: "/token", clientId: "spa", extraParams: { audience: "api" } },
});
const off: () => void = keeper.on("cleared", (d) => console.log(d.reason === "idle"));
keeper.on("error", (d) => console.log(d.code, d.message));
const kind: "session" | "local" | "memory" = keeper.storageKind;
keeper.on("refreshing", () => {});
// @ts-expect-error unknown event
keeper.on("refreshd", () => {});
// @ts-expect-error storage kinds are a closed set
new TokenKeeper({ storage: "cookie" });

// @ts-expect-error a token is a string
decodeJwt(42);
// @ts-expect-error leewaySeconds is a number
isExpired(token, { leewaySeconds: "30" });
// @ts-expect-error exp may be absent
decodeJwt(token).exp.toFixed();

export { exp, aud, alg, roles, at, expired, left, fresh, off, kind, renewed, response, refreshing, viaOAuth };
