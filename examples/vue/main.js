import { createApp } from "vue";
import init from "tokenkeeper";
import { createTokenKeeper } from "tokenkeeper/vue";
import { CLIENT_ID, TOKEN_ENDPOINT } from "../shared/sign-in.js";
import { App } from "./App.js";

// ?isolation=worker (kept for this tab, across the sign-in redirect) runs the keeper's engine
// in a SharedWorker: the refresh token never enters this page, and the page loads no wasm.
const asked = new URLSearchParams(location.search).get("isolation");
if (asked) sessionStorage.setItem("vue-example:isolation", asked);
const isolation = sessionStorage.getItem("vue-example:isolation") === "worker" ? "worker" : "page";

if (isolation === "page") await init(); // loads the wasm once, before the plugin makes its keeper

const app = createApp(App);
app.use(
  createTokenKeeper({
    namespace: "vue-example",
    isolation,
    oauth: { tokenEndpoint: TOKEN_ENDPOINT, clientId: CLIENT_ID },
  }),
);
app.mount("#app");
document.getElementById("unmount").onclick = () => app.unmount();
