// What an app's own Node test looks like, written only against the public entries of the
// packed package: `tokenkeeper/testing` for the server, `tokenkeeper` for the keeper.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { SCRATCH } from "../support/package.mjs";
import { recordToken } from "../support/leak-scan.mjs";

// A module inside the scratch project imports the bare specifiers, as an app's test file would:
// they resolve through the installed package's exports map.
await writeFile(
  `${SCRATCH}app-test-entry.mjs`,
  `export * as testing from "tokenkeeper/testing";\nexport * as tk from "tokenkeeper";\n`,
);
const { testing, tk } = await import(pathToFileURL(`${SCRATCH}app-test-entry.mjs`).href);
const { startTestIssuer, makeJwt } = testing;

test("an app's test: sign in, refresh, drill invalid_grant, close the server and free its port", async () => {
  await tk.default();
  const issuer = await startTestIssuer({ accessTokenTtl: 60 });
  const keeper = new tk.TokenKeeper({
    storage: "memory",
    oauth: { tokenEndpoint: issuer.tokenEndpoint, clientId: issuer.clientId },
  });
  const cleared = [];
  keeper.on("cleared", ({ reason }) => cleared.push(reason));

  const tokens = issuer.signIn("alice");
  for (const t of [tokens.access_token, tokens.refresh_token, tokens.id_token]) recordToken(t);
  keeper.setTokens(tokens);
  assert.equal(keeper.claims.sub, "alice");

  const refreshed = await keeper.refresh();
  recordToken(refreshed.accessToken);
  assert.notEqual(refreshed.accessToken, tokens.access_token);
  assert.equal(issuer.stats.refreshes, 1);

  issuer.failNext("invalid_grant");
  await assert.rejects(keeper.refresh(), { code: "ERR_INVALID_GRANT" });
  assert.deepEqual(cleared, ["invalid_grant"]);
  assert.equal(keeper.accessToken, undefined);

  keeper.dispose();
  const port = new URL(issuer.origin).port;
  await issuer.close();
  const free = await new Promise((resolve) => {
    const probe = createServer().once("error", () => resolve(false));
    probe.listen(Number(port), "127.0.0.1", () => probe.close(() => resolve(true)));
  });
  assert.equal(free, true, "the port is free after close()");
  assert.match(makeJwt({ sub: "bob" }, { expiresIn: 60 }), /^[\w-]+\.[\w-]+\.$/);
});
