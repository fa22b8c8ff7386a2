import { useEffect, useState } from "react";
import { useAccessToken, useTokenKeeper } from "tokenkeeper/react";
import { finishSignIn, startSignIn } from "../shared/sign-in.js";

export function App() {
  const keeper = useTokenKeeper(); // null until the provider has mounted
  const { status, claims, expiresAt, error } = useAccessToken();
  const [message, setMessage] = useState("");

  // Back from the authorization server: the keeper takes the tokens from the code exchange.
  useEffect(() => {
    if (!keeper) return undefined;
    let current = true;
    finishSignIn().then(
      (tokens) => current && tokens && keeper.setTokens(tokens),
      (e) => current && setMessage(e.message),
    );
    return () => {
      current = false;
    };
  }, [keeper]);

  async function callApi() {
    const response = await keeper.fetch("/api/me"); // with the token, refreshed first if need be
    setMessage(`/api/me: ${response.status} ${await response.text()}`);
  }

  return (
    <main>
      <p>
        Status: <output id="status">{status}</output> {error && <code id="error">{error.code}</code>}
      </p>
      {status === "signed-out" ? (
        <button id="sign-in" onClick={startSignIn}>
          Sign in
        </button>
      ) : (
        <>
          <p>
            Expires at <time id="expires">{new Date(expiresAt * 1000).toLocaleTimeString()}</time>
          </p>
          <pre id="claims">{JSON.stringify(claims, null, 2)}</pre>
          <button id="call-api" onClick={callApi}>
            Call /api/me
          </button>
          <button id="sign-out" onClick={() => keeper.clear()}>
            Sign out
          </button>
        </>
      )}
      <p id="message">{message}</p>
    </main>
  );
}
