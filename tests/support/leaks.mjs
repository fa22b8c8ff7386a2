// Asserts that no text seen by the app (errors, events, console) contains token text.
import assert from "node:assert/strict";

/** Every 8-character slice of each dot-separated segment of each token. */
export function tokenSlices(tokens) {
  const slices = new Set();
  for (const token of tokens) {
    for (const segment of String(token).split(".")) {
      for (let k = 0; k + 8 <= segment.length; k++) slices.add(segment.slice(k, k + 8));
    }
  }
  return slices;
}

export function assertNoTokenText(texts, tokens, what) {
  const slices = tokenSlices(tokens);
  for (const text of texts) {
    for (const slice of slices) {
      assert.ok(!String(text).includes(slice), `${what} contains token text`);
    }
  }
}
