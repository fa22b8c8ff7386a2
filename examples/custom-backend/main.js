// Tokens from your own backend instead of an OAuth server: its login endpoint answers
// { accessToken, refreshToken, expiresIn }, and the keeper's `refresh` callback calls its
// refresh endpoint. The callback's errors tell the keeper what to do next.
import init, { TokenKeeper } from "tokenkeeper";

await init();

const keeper = new TokenKeeper({
  namespace: "custom-backend-example",
  // Called before the access token expires (and on keeper.refresh()). It must send
  // current.refreshToken; what it resolves to replaces the tokens held.
  async refresh(current) {
    const response = await fetch("/api/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: current.refreshToken }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) return body; // { accessToken, refreshToken, expiresIn }
    // The session is over (expired, revoked, or this refresh token was already used): this
    // error shape signs out, in every tab, with reason "invalid_grant".
    if (body.error === "invalid_grant") throw Object.assign(new Error("session ended"), { error: "invalid_grant" });
    // Anything else (5xx, 429, a proxy's error page) is retried with back-off; the tokens stay.
    throw Object.assign(new Error(`refresh failed: ${response.status}`), { status: response.status });
  },
  // What keeper.clear() calls after signing out locally (best effort).
  async revoke({ refreshToken }) {
    await fetch("/api/logout", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
      keepalive: true,
    });
  },
});

const $ = (id) => document.getElementById(id);
let lastSignOut = "";

function render() {
  const signedIn = keeper.accessToken !== undefined;
  $("status").textContent = signedIn
    ? `signed in as ${keeper.claims.sub}, token valid until ${new Date(keeper.expiresAt * 1000).toLocaleTimeString()}`
    : `signed out${lastSignOut}`;
  $("status").dataset.state = signedIn ? "signed-in" : "signed-out";
  $("sign-in").hidden = signedIn;
  $("call-api").hidden = $("sign-out").hidden = !signedIn;
}

$("sign-in").onsubmit = async (event) => {
  event.preventDefault();
  const response = await fetch("/api/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(Object.fromEntries(new FormData(event.target))),
  });
  if (!response.ok) return void ($("status").textContent = `sign-in refused (${response.status})`);
  keeper.setTokens(await response.json()); // { accessToken, refreshToken, expiresIn }
};
$("sign-out").onclick = () => keeper.clear();
$("call-api").onclick = async () => {
  const response = await keeper.fetch("/api/me"); // Authorization: Bearer <a fresh token>
  $("api").textContent = `${response.status} ${await response.text()}`;
};
keeper.on("changed", render);
keeper.on("cleared", ({ reason }) => {
  lastSignOut = ` (${reason})`; // "logout", "invalid_grant", "idle", "max_session"
  render();
});
keeper.on("error", ({ code, message }) => console.warn(code, message));
render();
