import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import init, { TokenKeeper } from "tokenkeeper";
import { TokenKeeperProvider } from "tokenkeeper/react";
import { makeJwt, startTestIssuer } from "tokenkeeper/testing";
import { Profile } from "./Profile.jsx";

let issuer;
beforeAll(async () => {
  await init(); // loads the WebAssembly module, once
  issuer = await startTestIssuer(); // a real token endpoint on 127.0.0.1
});
afterAll(() => issuer.close());
afterEach(() => {
  cleanup();
  sessionStorage.clear();
  localStorage.clear();
});

test("a signed-in user sees their name, and signs out", async () => {
  const keeper = new TokenKeeper({ oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId } });
  keeper.setTokens(issuer.signIn("alice")); // signed in at once: no redirect, no login page
  expect(keeper.storageKind).toBe("session"); // jsdom's sessionStorage

  render(
    <TokenKeeperProvider keeper={keeper}>
      <Profile />
    </TokenKeeperProvider>,
  );
  expect(await screen.findByText(/Hello alice/)).toBeTruthy();

  await act(async () => fireEvent.click(screen.getByText("Sign out")));
  expect(await screen.findByText("Please sign in")).toBeTruthy();
  expect(sessionStorage.length).toBe(0);
  keeper.dispose();
});

test("remember-me: a new keeper restores the tokens from localStorage", async () => {
  const first = new TokenKeeper({ namespace: "my-app" });
  first.setTokens({ accessToken: makeJwt({ sub: "bob" }, { expiresIn: 300 }) }, { remember: true });
  first.dispose(); // as when the browser closes

  const second = new TokenKeeper({ namespace: "my-app" }); // as when the app starts again
  expect(second.storageKind).toBe("local");
  render(
    <TokenKeeperProvider keeper={second}>
      <Profile />
    </TokenKeeperProvider>,
  );
  expect(await screen.findByText(/Hello bob/)).toBeTruthy();
  second.dispose();
});
