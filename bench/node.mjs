// `npm run bench` (Node part): tokenkeeper against jose and jwt-decode in one process.
import * as jose from "jose";
import { jwtDecode } from "jwt-decode";
import init, * as tk from "../js/node.js";
import { sign, typicalPayload, largePayload } from "../tests/support/tokens.mjs";
import { medianNs, withRatios } from "./harness.mjs";
import { cases } from "./cases.mjs";

export async function makeTokens(count = 64) {
  const typical = [];
  const large = [];
  for (let i = 0; i < count; i++) {
    typical.push(await sign(typicalPayload(i)));
    large.push(await sign(largePayload(i)));
  }
  return { typical, large };
}

export async function benchNode(tokens) {
  await init();
  return withRatios(
    cases(tk, jose, jwtDecode, tokens).map(({ fn, inputs, ...row }) => ({ ...row, ns: medianNs(fn, inputs) })),
  );
}
