import init, { decodeJwt, TokenKeeper } from "tokenkeeper";
import { signIn } from "./sign-in.js"; // your sign-in: it resolves to the token endpoint's answer

await init(); // loads the WebAssembly module, once

const tokens = await signIn(); // { access_token, refresh_token, expires_in, ... }
const { sub, exp } = decodeJwt(tokens.access_token); // reads the claims; does NOT verify the signature
console.log(`signed in as ${sub} until ${new Date(exp * 1000).toLocaleTimeString()}`);

const keeper = new TokenKeeper({
  oauth: { tokenEndpoint: "https://id.example.com/oauth/token", clientId: "my-spa" },
});
keeper.on("refreshed", ({ expiresAt }) =>
  console.log(`refreshed until ${new Date(expiresAt * 1000).toLocaleTimeString()}`),
);
keeper.setTokens(tokens); // kept in sessionStorage, refreshed before it expires

const me = await keeper.fetch("/api/me"); // sends Authorization: Bearer <a fresh access token>
console.log(`GET /api/me: ${me.status}`);
