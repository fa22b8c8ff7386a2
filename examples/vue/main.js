import { createApp } from "vue";
import init from "tokenkeeper";
import { createTokenKeeper } from "tokenkeeper/vue";
import { CLIENT_ID, TOKEN_ENDPOINT } from "../shared/sign-in.js";
import { App } from "./App.js";

await init(); // loads the wasm once, before the plugin makes its keeper

const app = createApp(App);
app.use(createTokenKeeper({ namespace: "vue-example", oauth: { tokenEndpoint: TOKEN_ENDPOINT, clientId: CLIENT_ID } }));
app.mount("#app");
document.getElementById("unmount").onclick = () => app.unmount();
