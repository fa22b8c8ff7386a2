// Sign in with the OAuth authorization code flow and PKCE, done by oauth4webapi; then
// tokenkeeper keeps the tokens (sessionStorage), refreshes them before they expire, revokes
// them on sign-out, and adds them to API calls.
import * as oauth from "oauth4webapi";
import init, { TokenKeeper } from "tokenkeeper";

// Your authorization server, client and API (set at build time: VITE_ISSUER=... vite build).
const issuer = new URL(import.meta.env.VITE_ISSUER ?? "https://id.example.com");
const clientId = import.meta.env.VITE_CLIENT_ID ?? "my-spa";
const apiUrl = import.meta.env.VITE_API_URL ?? new URL("/api/me", issuer).href;
const redirectUri = new URL("/", location.href).href; // the app; registered with the issuer

// oauth4webapi only talks https; plain http is allowed for an issuer on this machine alone.
const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(issuer.hostname);
const http = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" && loopback };

const client = { client_id: clientId };
const PENDING = "pkce-example:pending"; // the code verifier and state, while the issuer has the page

await init();
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http));
const keeper = new TokenKeeper({
  namespace: "pkce-example",
  oauth: { tokenEndpoint: as.token_endpoint, revocationEndpoint: as.revocation_endpoint, clientId },
  allowedOrigins: [new URL(apiUrl).origin], // keeper.fetch sends the token there and nowhere else
});

async function signIn() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ codeVerifier, state }));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid offline_access", // offline_access: a refresh token for the keeper
    prompt: "consent", // some providers (node-oidc-provider) drop offline_access without it
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
  });
  location.assign(url);
}

/** Back from the issuer with ?code=…&state=…: exchange the code for tokens. */
async function finishSignIn() {
  const callback = new URL(location.href);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", redirectUri); // the code is single-use: keep it out of history
  if (!pending) throw new Error("no sign-in was started in this tab");
  const params = oauth.validateAuthResponse(as, client, callback, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(), // a public client: PKCE instead of a secret
    params,
    redirectUri,
    pending.codeVerifier,
    http,
  );
  keeper.setTokens(await oauth.processAuthorizationCodeResponse(as, client, response));
}

const $ = (id) => document.getElementById(id);

function render() {
  const signedIn = keeper.accessToken !== undefined;
  $("status").textContent = signedIn
    ? `signed in as ${keeper.claims.sub}, token valid until ${new Date(keeper.expiresAt * 1000).toLocaleTimeString()}`
    : "signed out";
  $("status").dataset.state = signedIn ? "signed-in" : "signed-out";
  $("sign-in").hidden = signedIn;
  $("call-api").hidden = $("sign-out").hidden = !signedIn;
}

$("sign-in").onclick = () => signIn();
$("sign-out").onclick = () => keeper.clear(); // every tab, then revocation at the issuer
$("call-api").onclick = async () => {
  const response = await keeper.fetch(apiUrl); // Authorization: Bearer <a fresh token>
  $("api").textContent = `${response.status} ${await response.text()}`;
};
keeper.on("changed", render);
keeper.on("cleared", render);
keeper.on("error", ({ code, message }) => console.warn(code, message));

if (new URLSearchParams(location.search).has("code")) await finishSignIn();
render();
