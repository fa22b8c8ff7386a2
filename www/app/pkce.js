// PKCE (RFC 7636) and state values with WebCrypto.

const base64url = (bytes) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** 32 random bytes, base64url: a code verifier, a state or a nonce. */
export const randomValue = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

/** The S256 code challenge of a verifier. */
export async function codeChallenge(verifier) {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}
