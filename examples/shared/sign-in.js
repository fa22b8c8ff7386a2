// Sign-in with the authorization code flow and PKCE (RFC 7636), as a single-page app does it.
// The authorization server here is tokenkeeper/testing's issuer, on the app's own origin.
export const CLIENT_ID = "test-client";
export const TOKEN_ENDPOINT = new URL("/token", location.origin).href;

const REDIRECT_URI = location.origin + location.pathname;
const PENDING = "example:sign-in"; // the PKCE verifier and state, across the redirect

const base64url = (bytes) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const randomText = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** Goes to the authorization server, which comes back to this page with ?code. */
export async function startSignIn() {
  const verifier = randomText();
  const state = randomText();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL("/authorize", location.origin);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: "openid profile offline_access",
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
    state,
  });
  location.assign(url);
}

let finishing;

/** Back with ?code: the token response for it, or null. Runs once per page load (a code works once). */
export function finishSignIn() {
  finishing ??= exchangeCode();
  return finishing;
}

async function exchangeCode() {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (code === null) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", location.pathname); // the code leaves the address bar
  if (pending === null || query.get("state") !== pending.state) throw new Error("sign-in answer for another request");
  const response = await fetch(TOKEN_ENDPOINT, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`the code exchange failed (HTTP ${response.status})`);
  return response.json();
}
