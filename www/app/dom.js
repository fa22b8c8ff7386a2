// Tiny DOM and formatting helpers shared by the panels.

export const $ = (id) => document.getElementById(id);

/** An element with properties (dataset entries as `data`) and children (text or nodes). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { data, ...rest } = props;
  Object.assign(node, rest);
  if (data) Object.assign(node.dataset, data);
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

/** A wall-clock time with seconds: "14:03:27". */
export const timeOf = (epochMs) => new Date(epochMs).toLocaleTimeString([], { hour12: false });

/** Whole seconds, for countdowns. */
export const seconds = (ms) => Math.max(0, Math.ceil(ms / 1000));

/** The start of a long opaque value, enough to tell values apart without showing them. */
export const shortId = (value) =>
  typeof value === "string" && value.length > 10 ? `${value.slice(0, 8)}…` : (value ?? "");

/** POSTs JSON to the demo server and resolves to its JSON answer. */
export async function postJson(path, body = {}) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return res.json();
}
