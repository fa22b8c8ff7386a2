// The React example end to end, with tokenkeeper/testing's issuer as its OpenID provider: the
// issuer serves the built app on its own origin and approves the sign-in at once (no login
// page), so the test drives the app and checks what the provider saw.
import { fileURLToPath } from "node:url";
import { expect, test } from "@playwright/test";
import { startTestIssuer } from "tokenkeeper/testing";

const APP = process.env.APP_DIST ?? fileURLToPath(new URL("../../react/dist", import.meta.url));

let issuer;
test.beforeEach(async () => {
  // 4 s access tokens: the keeper refreshes about every 2 s.
  issuer = await startTestIssuer({ accessTokenTtl: 4, static: { "/": APP } });
});
test.afterEach(() => issuer.close());

test("signs in with PKCE, refreshes, and is signed out when the provider ends the session", async ({ page }) => {
  await page.goto(issuer.origin);
  await page.click("#sign-in"); // to the issuer's /authorize and back with ?code
  await expect(page.locator("#status")).toHaveText("fresh");
  await expect(page.locator("#claims")).toContainText('"sub": "test-user"');

  await expect.poll(() => issuer.stats.refreshes, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
  expect(issuer.stats.reuseDetections).toBe(0); // one refresh per rotation

  await page.click("#call-api");
  await expect(page.locator("#message")).toContainText("/api/me: 200");

  issuer.revokeSession(issuer.sessions()[0].id); // a sign-out forced by the provider
  await expect(page.locator("#status")).toHaveText("signed-out", { timeout: 10_000 });
});

test("a refresh that fails with 500 is retried: the user stays signed in", async ({ page }) => {
  await page.goto(issuer.origin);
  await page.click("#sign-in");
  await expect(page.locator("#status")).toHaveText("fresh");
  const refreshes = issuer.stats.refreshes;
  issuer.failNext("500");
  await expect.poll(() => issuer.stats.refreshes, { timeout: 15_000 }).toBeGreaterThan(refreshes);
  await expect(page.locator("#status")).toHaveText("fresh");
});
