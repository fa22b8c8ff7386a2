import { h, onMounted, ref } from "vue";
import { useTokenKeeper } from "tokenkeeper/vue";
import { finishSignIn, startSignIn } from "../shared/sign-in.js";

export const App = {
  setup() {
    const { keeper, status, claims, expiresAt, error } = useTokenKeeper();
    const message = ref("");

    // Back from the authorization server: the keeper takes the tokens from the code exchange.
    onMounted(() =>
      finishSignIn().then(
        (tokens) => tokens && keeper.setTokens(tokens),
        (e) => (message.value = e.message),
      ),
    );

    async function callApi() {
      const response = await keeper.fetch("/api/me"); // with the token, refreshed first if need be
      message.value = `/api/me: ${response.status} ${await response.text()}`;
    }

    return () =>
      h("main", [
        h("p", [
          "Status: ",
          h("output", { id: "status" }, status.value),
          " ",
          error.value && h("code", { id: "error" }, error.value.code),
        ]),
        status.value === "signed-out"
          ? h("button", { id: "sign-in", onClick: startSignIn }, "Sign in")
          : [
              h("p", [
                "Expires at ",
                h("time", { id: "expires" }, new Date(expiresAt.value * 1000).toLocaleTimeString()),
              ]),
              h("pre", { id: "claims" }, JSON.stringify(claims.value, null, 2)),
              h("button", { id: "call-api", onClick: callApi }, "Call /api/me"),
              h("button", { id: "sign-out", onClick: () => keeper.clear() }, "Sign out"),
            ],
        h("p", { id: "message" }, message.value),
      ]);
  },
};
