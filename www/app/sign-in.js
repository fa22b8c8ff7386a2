// Sign-in in the browser: authorization code with PKCE (RFC 7636) at the token server, which
// approves at once (the user is its login_hint). With DPoP, the authorization request names
// the keeper's key (dpop_jkt) and the code exchange carries a proof made with it, so the
// tokens are bound to that key from the start.
import { codeChallenge, randomValue } from "./pkce.js";

/** What survives the round trip, in this tab only (the verifier must not reach other tabs). */
const PENDING = "tokenkeeper-demo:pending-sign-in";

/** Leaves for the token server's /authorize. */
export async function startSignIn({ config, keeper, user, dpop }) {
  const verifier = randomValue();
  const state = randomValue();
  const redirectUri = `${location.origin}/`;
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri,
    scope: "openid profile offline_access",
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
    login_hint: user,
  });
  if (dpop) params.set("dpop_jkt", await keeper.dpopThumbprint());
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, redirectUri }));
  location.assign(`${config.authorizationEndpoint}?${params}`);
}

/**
 * Back from /authorize: exchanges the code and hands the tokens to the keeper. Resolves to
 * false when the page was not opened by a sign-in redirect; throws with a message for the user.
 */
export async function finishSignIn({ config, keeper, remember, dpop }) {
  const answer = new URLSearchParams(location.search);
  if (!answer.has("state")) return false;
  // The code must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", location.pathname);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  if (!pending || answer.get("state") !== pending.state) throw new Error("this sign-in was not started in this tab");
  if (answer.has("error")) throw new Error(`the token server refused: ${answer.get("error")}`);
  if (answer.get("iss") !== config.issuer) throw new Error("the answer came from another issuer"); // RFC 9207
  const headers = dpop ? { dpop: await keeper.dpopProof("POST", config.tokenEndpoint) } : {};
  const res = await fetch(config.tokenEndpoint, {
    method: "POST",
    headers,
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code") ?? "",
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
      client_id: config.clientId,
    }),
  }).catch(() => null);
  if (!res) throw new Error("the token server could not be reached");
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`the code exchange failed: ${body.error ?? `HTTP ${res.status}`}`);
  keeper.setTokens(body, { remember });
  return true;
}
