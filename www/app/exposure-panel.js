// What a script running on this page — an XSS payload, a compromised dependency — could read:
// document.cookie and both web storages, scanned for token records, and what the page's keeper
// object holds in the page's memory. Names and kinds only.
import { $ } from "./dom.js";

/** "key: access token, refresh token" for each entry of a storage. */
function scan(storage) {
  const found = [];
  let refreshToken = false;
  try {
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      let kinds = [];
      try {
        const record = JSON.parse(storage.getItem(key) ?? "");
        if (record && typeof record === "object") {
          kinds = [
            ["accessToken", "access token"],
            ["refreshToken", "refresh token"],
            ["idToken", "ID token"],
          ]
            .filter(([field]) => typeof record[field] === "string")
            .map(([, name]) => name);
        }
      } catch {
        // not JSON: not a token record
      }
      refreshToken ||= kinds.includes("refresh token");
      found.push(`${key}${kinds.length ? `: ${kinds.join(", ")}` : ""}`);
    }
  } catch {
    return { text: "blocked", refreshToken };
  }
  return { text: found.length ? found.join(" · ") : "empty", refreshToken };
}

export function showExposure(host) {
  const render = () => {
    const mode = host.built.mode;
    const signedIn = host.keeper.accessToken !== undefined;
    const cookie = document.cookie;
    $("see-cookie").textContent = cookie
      ? cookie
          .split(";")
          .map((c) => c.split("=")[0].trim())
          .join(", ")
      : mode === "bff" && signedIn
        ? "empty — the session cookie is HttpOnly: sent with requests, invisible to scripts"
        : "empty";
    const local = scan(localStorage);
    const session = scan(sessionStorage);
    $("see-local").textContent = local.text;
    $("see-session").textContent = session.text;
    // A page keeper reads its refresh token from storage into this page's memory; the proxy of
    // isolation "worker" never receives one (the worker keeps it).
    const inMemory = signedIn && mode === "spa" && !host.built.worker;
    $("see-memory").textContent = !signedIn
      ? "no tokens"
      : host.built.worker
        ? "access token only — the refresh token stays in the keeper's SharedWorker"
        : mode === "bff"
          ? "access token only"
          : "access token and refresh token, in this page's memory";
    const where = [
      local.refreshToken && "localStorage",
      session.refreshToken && "sessionStorage",
      inMemory && "this page's memory",
    ].filter(Boolean);
    const verdict = $("see-verdict");
    verdict.dataset.refreshToken = where.length ? "present" : "absent";
    verdict.textContent = where.length
      ? `A refresh token is in ${where.join(" and ")}: a script on this page could read it and use it elsewhere` +
        (host.built.dpop
          ? ", except that DPoP binds it to this browser's key, which no script can export."
          : " until it is rotated or revoked.")
      : signedIn && host.built.worker
        ? "No refresh token anywhere JavaScript on this page can read: the keeper's worker holds it; scripts see an access token at most."
        : signedIn
          ? "No refresh token anywhere JavaScript can read: the backend holds it; scripts see an access token at most."
          : "No tokens.";
  };
  for (const event of ["changed", "cleared"]) host.on(event, render);
  host.onRebuild(render);
  addEventListener("storage", render);
  setInterval(render, 2000);
  render();
}
