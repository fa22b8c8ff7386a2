import { useAccessToken, useTokenKeeper } from "tokenkeeper/react";

/** The component under test: who is signed in, and a sign-out button. */
export function Profile() {
  const { status, claims } = useAccessToken();
  const keeper = useTokenKeeper();
  if (status === "signed-out") return <p>Please sign in</p>;
  return (
    <p>
      Hello {claims?.sub} <button onClick={() => keeper?.clear()}>Sign out</button>
    </p>
  );
}
