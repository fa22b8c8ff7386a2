import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import init from "tokenkeeper";
import { TokenKeeperProvider } from "tokenkeeper/react";
import { CLIENT_ID, TOKEN_ENDPOINT } from "../shared/sign-in.js";
import { App } from "./App.jsx";

await init(); // loads the wasm once, before the provider makes its keeper

const options = { namespace: "react-example", oauth: { tokenEndpoint: TOKEN_ENDPOINT, clientId: CLIENT_ID } };

const root = createRoot(document.getElementById("root"));
root.render(
  <StrictMode>
    <TokenKeeperProvider options={options}>
      <App />
    </TokenKeeperProvider>
  </StrictMode>,
);
document.getElementById("unmount").onclick = () => root.unmount();
