// Asserts that no text seen by the app (errors, events, console) contains token text.
import assert from "node:assert/strict";
import { tokenSlices } from "./leak-scan.mjs";

export { tokenSlices };

export function assertNoTokenText(texts, tokens, what) {
  const slices = tokenSlices(tokens);
  for (const text of texts) {
    for (const slice of slices) {
      assert.ok(!String(text).includes(slice), `${what} contains token text`);
    }
  }
}
