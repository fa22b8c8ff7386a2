// Small HTTP helpers for the demo server's own routes: JSON in and out, cookies.

const MAX_JSON_BODY_BYTES = 16 * 1024;

/** Writes a JSON answer that no cache keeps. */
export function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A redirect that no cache keeps. */
export function redirect(res, location, headers = {}) {
  res.writeHead(302, { location, "cache-control": "no-store", ...headers });
  res.end();
}

/** The request body parsed as JSON (an empty body is `{}`); null when it is not JSON. */
export async function readJson(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > MAX_JSON_BODY_BYTES) return null;
  }
  if (text === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The request's cookies as a Map. */
export function cookiesOf(req) {
  const cookies = new Map();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) cookies.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return cookies;
}

/** Ends a request the way a lost network does: the connection goes away without an answer. */
export function dropConnection(req) {
  req.socket.destroy();
}
