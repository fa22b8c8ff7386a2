// The page's side of the backend-for-frontend mode: the refresh token stays on the demo
// server behind an HttpOnly cookie, which `credentials: "include"` sends and no script reads.

/** The keeper's `refresh` option: an access token from the backend, never a refresh token. */
export async function refreshAtBackend() {
  const res = await fetch("/bff/refresh", { method: "POST", credentials: "include" });
  const body = await res.json().catch(() => ({}));
  // A 401 with invalid_grant signs the keeper out; anything else is retried with backoff.
  if (!res.ok)
    throw Object.assign(new Error(`the backend answered ${res.status}`), { status: res.status, error: body.error });
  return body;
}

/** The keeper's `revoke` option: clear() ends the backend session, which revokes the refresh token. */
export async function signOutAtBackend() {
  await fetch("/bff/logout", { method: "POST", credentials: "include", keepalive: true });
}

/** The backend session's current access token (a tab's first one), or null when there is none. */
export async function tokenFromBackend() {
  const res = await fetch("/bff/token", { method: "POST", credentials: "include" }).catch(() => null);
  return res?.ok ? res.json() : null;
}

/** Sign-in is the backend's job: it does the PKCE round trip and comes back to the page. */
export function signInAtBackend(user) {
  location.assign(`/bff/login?${new URLSearchParams({ login_hint: user })}`);
}
