// The page's side of a backend-for-frontend (server.mjs): the backend signs in and holds the
// refresh token; the page holds only short-lived access tokens, in memory, and gets new ones
// from POST /bff/refresh with its HttpOnly session cookie.
import init, { TokenKeeper } from "tokenkeeper";

// The API the access tokens are for (set at build time: VITE_API_URL=... vite build).
const apiUrl = import.meta.env.VITE_API_URL ?? "https://api.example.com/me";

/** A fresh access token from the backend: { access_token, expires_in, token_type }. A 401 (no
 *  session, or the session ended) signs out; anything else is retried with back-off. */
const bffRefresh = () =>
  fetch("/bff/refresh", { method: "POST", credentials: "include" }).then((r) =>
    r.ok ? r.json() : Promise.reject(Object.assign(new Error("refresh failed"), { status: r.status })),
  );

await init();
const keeper = new TokenKeeper({
  namespace: "bff-example",
  storage: "memory", // nothing in web storage at all: a reload asks the backend again
  refresh: bffRefresh,
  revoke: () => fetch("/bff/logout", { method: "POST", credentials: "include" }).then(() => {}),
  allowedOrigins: [new URL(apiUrl).origin],
});

const $ = (id) => document.getElementById(id);
let refreshes = 0;

function render() {
  const signedIn = keeper.accessToken !== undefined;
  $("status").textContent = signedIn
    ? `signed in as ${keeper.claims.sub}, token valid until ${new Date(keeper.expiresAt * 1000).toLocaleTimeString()}` +
      ` (${refreshes} refreshes)`
    : "signed out";
  $("status").dataset.state = signedIn ? "signed-in" : "signed-out";
  $("sign-in").hidden = signedIn;
  $("call-api").hidden = $("sign-out").hidden = !signedIn;
}

$("sign-out").onclick = () => keeper.clear(); // then the backend ends the session (revoke)
$("call-api").onclick = async () => {
  const response = await keeper.fetch(apiUrl); // Authorization: Bearer <a fresh token>
  $("api").textContent = `${response.status} ${await response.text()}`;
};
keeper.on("refreshed", () => {
  refreshes += 1;
  render();
});
keeper.on("changed", render);
keeper.on("cleared", render);
keeper.on("error", ({ code, message }) => console.warn(code, message));

// Signed in already (the session cookie)? Then the backend hands out a first access token.
try {
  keeper.setTokens(await bffRefresh());
} catch (error) {
  if (error.status !== 401) console.warn("the backend is unavailable", error);
}
render();
