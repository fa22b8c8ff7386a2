// Compiled with `tsc --noEmit --strict` against the installed package (see
// tests/js/frameworks.browser.test.mjs): the types of tokenkeeper/react and tokenkeeper/vue.
import { createElement, type ReactElement } from "react";
import { createApp, defineComponent, type ComputedRef } from "vue";
import { TokenKeeper, type JwtPayload, type KeeperOptions } from "tokenkeeper";
import {
  TokenKeeperProvider,
  useAccessToken,
  useTokenKeeper,
  type AccessTokenError,
  type AccessTokenState,
  type AccessTokenStatus,
  type HeldToken,
  type TokenKeeperProviderProps,
} from "tokenkeeper/react";
import {
  createTokenKeeper,
  useTokenKeeper as useVueTokenKeeper,
  type TokenKeeperBinding,
  type TokenKeeperPlugin,
} from "tokenkeeper/vue";

const options: KeeperOptions = { oauth: { tokenEndpoint: "https://id.example.com/token", clientId: "spa" } };

// React
function Status(): ReactElement {
  const keeper: TokenKeeper | null = useTokenKeeper();
  const state: AccessTokenState = useAccessToken();
  const status: AccessTokenStatus = state.status;
  let text: string = status;
  if (state.status === "error") {
    const error: AccessTokenError = state.error;
    const retryAfter: number | undefined = error.retryAfterSeconds;
    text = `${error.code}: ${error.message} ${retryAfter} ${state.token.length}`;
  }
  if (state.status === "refreshing") {
    const held: HeldToken = state;
    text = held.token;
  }
  if (state.status === "fresh") {
    const token: string = state.token;
    const claims: JwtPayload | undefined = state.claims;
    const expiresAt: number | undefined = state.expiresAt;
    const next: number | undefined = state.nextRefreshAt;
    const who: unknown = state.idClaims?.name;
    text = `${token.length} ${claims?.sub} ${expiresAt} ${next} ${who}`;
  }
  // Claims types of the app's own (API §6), not checked at runtime.
  const typed = useAccessToken<JwtPayload & { scope?: string }, JwtPayload & { name?: string }>();
  if (typed.status === "fresh") text = `${typed.claims?.scope} ${typed.idClaims?.name?.length}`;
  // @ts-expect-error signed out, there is no token
  const none: string = useAccessToken().token;
  void keeper?.getAccessToken();
  return createElement("p", null, text, none);
}
createElement(TokenKeeperProvider, { options }, createElement(Status));
createElement(TokenKeeperProvider, { keeper: new TokenKeeper(options) }, createElement(Status));
const props: TokenKeeperProviderProps = { options, children: createElement(Status) };
createElement(TokenKeeperProvider, props);
// @ts-expect-error either options or a keeper, not both
createElement(TokenKeeperProvider, { options, keeper: new TokenKeeper(options) });
// @ts-expect-error options must be KeeperOptions
createElement(TokenKeeperProvider, { options: { refreshBefore: 10 } });

// Vue
const App = defineComponent({
  setup() {
    const { keeper, status, token, claims, expiresAt, idClaims, nextRefreshAt, error }: TokenKeeperBinding =
      useVueTokenKeeper();
    const who: unknown = idClaims.value?.name;
    const next: number | undefined = nextRefreshAt.value;
    const statusRef: ComputedRef<AccessTokenStatus> = status;
    const code: string | undefined = error.value?.code;
    const sub: string | undefined = claims.value?.sub;
    const at: number | undefined = expiresAt.value;
    const held: string | undefined = token.value;
    // @ts-expect-error the refs are read-only
    status.value = "fresh";
    void keeper.refresh();
    return () => `${statusRef.value} ${code} ${sub} ${at} ${held?.length} ${who} ${next}`;
  },
});
const plugin: TokenKeeperPlugin = createTokenKeeper(options);
createApp(App).use(plugin).mount("#app");
createTokenKeeper().install(createApp(App));
// @ts-expect-error createTokenKeeper takes KeeperOptions
createTokenKeeper({ storage: "cookie" });
