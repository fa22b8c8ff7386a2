import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import init from "tokenkeeper";
import { TokenKeeperProvider } from "tokenkeeper/react";
import { CLIENT_ID, TOKEN_ENDPOINT } from "../shared/sign-in.js";
import { App } from "./App.jsx";

// ?isolation=worker (kept for this tab, across the sign-in redirect) runs the keeper's engine
// in a SharedWorker: the refresh token never enters this page, and the page loads no wasm.
const asked = new URLSearchParams(location.search).get("isolation");
if (asked) sessionStorage.setItem("react-example:isolation", asked);
const isolation = sessionStorage.getItem("react-example:isolation") === "worker" ? "worker" : "page";

if (isolation === "page") await init(); // loads the wasm once, before the provider makes its keeper

const options = {
  namespace: "react-example",
  isolation,
  oauth: { tokenEndpoint: TOKEN_ENDPOINT, clientId: CLIENT_ID },
};

const root = createRoot(document.getElementById("root"));
root.render(
  <StrictMode>
    <TokenKeeperProvider options={options}>
      <App />
    </TokenKeeperProvider>
  </StrictMode>,
);
document.getElementById("unmount").onclick = () => root.unmount();
