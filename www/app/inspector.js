// The token inspector: decode as you type; header, claims, times and a live countdown, or the
// TokenError's code. The token shown is the one the user pasted or asked to see.
import { decodeHeader, decodeJwt, secondsUntilExpiry, TokenError } from "tokenkeeper";
import { $, el } from "./dom.js";

let ticker = 0;

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function showTimes(claims) {
  const rows = [];
  for (const [name, label] of [
    ["iat", "issued at"],
    ["nbf", "not before"],
    ["exp", "expires"],
  ]) {
    if (typeof claims[name] === "number") {
      const when = new Date(claims[name] * 1000).toLocaleString();
      rows.push(el("dt", {}, name), el("dd", { data: { claim: name } }, `${when} `, el("small", {}, `(${label})`)));
    }
  }
  $("times").replaceChildren(...(rows.length ? rows : [el("dd", {}, "no time claims")]));
}

function tick(token) {
  const left = secondsUntilExpiry(token);
  const out = $("countdown");
  if (left === undefined) {
    out.dataset.state = "none";
    out.textContent = "No exp claim: this token does not expire.";
  } else if (left > 0) {
    out.dataset.state = "valid";
    out.textContent = `Expires in ${Math.floor(left)} s`;
  } else {
    out.dataset.state = "expired";
    out.textContent = `Expired ${Math.ceil(-left)} s ago`;
  }
}

function inspect() {
  clearInterval(ticker);
  const token = $("token").value.trim();
  for (const id of ["header", "claims", "countdown"]) $(id).textContent = "";
  $("times").replaceChildren();
  if (token === "") return setStatus("empty", "Waiting for a token.");
  try {
    $("header").textContent = JSON.stringify(decodeHeader(token), null, 2);
    const claims = decodeJwt(token);
    $("claims").textContent = JSON.stringify(claims, null, 2);
    showTimes(claims);
    tick(token);
    ticker = setInterval(() => tick(token), 1000);
    setStatus("ok", "Decoded (signature not verified).");
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
    const where = [e.part && `part: ${e.part}`, e.claim && `claim: ${e.claim}`].filter(Boolean).join(", ");
    setStatus("error", `${e.code}${where ? ` (${where})` : ""}: ${e.message}`);
  }
}

/** An unsigned token that expires `lifetimeSeconds` from now. */
function sampleToken(lifetimeSeconds = 90) {
  const b64 = (o) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: "https://demo.tokenkeeper.local",
    sub: "user-42",
    name: "Ada",
    iat: now,
    nbf: now,
    exp: now + lifetimeSeconds,
  };
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

export function wireInspector(host) {
  const show = (token) => {
    $("token").value = token;
    inspect();
  };
  $("token").addEventListener("input", inspect);
  $("sample").addEventListener("click", () => show(sampleToken()));
  $("inspect-current").addEventListener("click", () => show(host.keeper.accessToken ?? ""));
  $("clear").addEventListener("click", () => show(""));
}
