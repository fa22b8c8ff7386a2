// Stands for your sign-in, which resolves to the token endpoint's answer
// ({ access_token, refresh_token, expires_in, ... }): the authorization code flow with PKCE
// (../pkce), your own backend's login (../custom-backend), or a backend-for-frontend (../bff).
export async function signIn() {
  throw new Error("sign-in.js: replace this with your sign-in (see the examples next to this one)");
}
