// Bundled by bench/browser.mjs for the Chromium page: the same cases as in Node.
import init, * as tk from "../js/index.js";
import * as jose from "jose";
import { jwtDecode } from "jwt-decode";
import { runGroups, runAsyncGroup } from "./harness.mjs";
import { cases } from "./cases.mjs";

window.runBench = async (tokens) => {
  await init("/pkg/tokenkeeper_bg.wasm");
  const decoding = runGroups(cases(tk, jose, jwtDecode, tokens));
  const keeper = new tk.TokenKeeper({ storage: "memory" });
  const token = tokens.fresh;
  keeper.setTokens({ accessToken: token });
  const access = await runAsyncGroup("getAccessToken fresh", [
    { impl: "await Promise.resolve(token)", fn: () => Promise.resolve(token), baseline: true },
    { impl: "await keeper.getAccessToken()", fn: () => keeper.getAccessToken() },
  ]);
  keeper.dispose();
  return { decoding, access };
};
window.benchReady = true;
