// The token inspector: decode as you type, show header, claims, times and a live countdown.
import init, { decodeHeader, decodeJwt, secondsUntilExpiry, TokenError, TokenKeeper } from "/tokenkeeper/js/index.js";

const $ = (id) => document.getElementById(id);
const input = $("token");
let ticker = 0;

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function showTimes(claims) {
  const rows = [];
  for (const [name, label] of [["iat", "issued at"], ["nbf", "not before"], ["exp", "expires"]]) {
    if (typeof claims[name] === "number") {
      rows.push(`<dt>${name}</dt><dd data-claim="${name}">${new Date(claims[name] * 1000).toLocaleString()} <small>(${label})</small></dd>`);
    }
  }
  $("times").innerHTML = rows.join("") || "<dd>no time claims</dd>";
}

function tick(token) {
  const left = secondsUntilExpiry(token);
  const el = $("countdown");
  if (left === undefined) {
    el.dataset.state = "none";
    el.textContent = "No exp claim: this token does not expire.";
  } else if (left > 0) {
    el.dataset.state = "valid";
    el.textContent = `Expires in ${Math.floor(left)} s`;
  } else {
    el.dataset.state = "expired";
    el.textContent = `Expired ${Math.ceil(-left)} s ago`;
  }
}

function inspect() {
  clearInterval(ticker);
  const token = input.value.trim();
  for (const id of ["header", "claims"]) $(id).textContent = "";
  $("times").innerHTML = "";
  $("countdown").textContent = "";
  if (token === "") return setStatus("empty", "Waiting for a token.");
  try {
    const header = decodeHeader(token);
    const claims = decodeJwt(token);
    $("header").textContent = JSON.stringify(header, null, 2);
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

function sampleToken(lifetimeSeconds = 90) {
  const b64 = (o) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: "none", typ: "JWT" };
  const claims = { iss: "https://demo.tokenkeeper.local", sub: "user-42", name: "Ada", iat: now, nbf: now, exp: now + lifetimeSeconds };
  return `${b64(header)}.${b64(claims)}.`;
}

await init();
input.addEventListener("input", inspect);
$("sample").addEventListener("click", () => {
  input.value = sampleToken();
  inspect();
});
$("clear").addEventListener("click", () => {
  input.value = "";
  inspect();
});
// The keeper panel: where the tokens are, and every event, as it happens.
const keeper = new TokenKeeper({
  namespace: "tokenkeeper-demo",
  oauth: { tokenEndpoint: new URL("/token", location.href).href, clientId: "tokenkeeper-spa" },
  refreshBeforeSeconds: 5,
});
async function showServer() {
  const stats = await (await fetch("/stats")).json();
  $("k-server").textContent = `${stats.refreshes} refreshes, ${stats.reuseDetections} reuse detections, ${stats.apiCalls} API calls`;
}
function showKeeper() {
  $("k-signed").textContent = keeper.accessToken ? "yes" : "no";
  $("k-kind").textContent = keeper.storageKind;
  $("k-exp").textContent = keeper.expiresAt ? new Date(keeper.expiresAt * 1000).toLocaleTimeString() : "";
  $("k-sub").textContent = keeper.claims?.sub ?? "";
}
for (const type of ["changed", "expired", "error", "cleared", "refreshed"]) {
  keeper.on(type, (detail) => {
    const item = document.createElement("li");
    const { claims, ...rest } = detail;
    item.textContent = `${new Date().toLocaleTimeString()} ${type} ${JSON.stringify(rest)}`;
    item.dataset.type = type;
    $("k-events").prepend(item);
    showKeeper();
    showServer();
  });
}
$("signin").addEventListener("click", async () => {
  const body = new URLSearchParams({ grant_type: "password", username: "user-42", password: "demo", client_id: "tokenkeeper-spa" });
  const tokens = await (await fetch("/token", { method: "POST", body })).json();
  keeper.setTokens(tokens, { remember: $("remember").checked });
});
$("refresh").addEventListener("click", () => keeper.refresh().catch(() => {}));
$("callapi").addEventListener("click", async () => {
  const item = document.createElement("li");
  try {
    const res = await keeper.fetch("/api/data");
    item.textContent = `${new Date().toLocaleTimeString()} API ${res.status}`;
  } catch (e) {
    item.textContent = `${new Date().toLocaleTimeString()} API failed: ${e.code ?? e.name}`;
  }
  $("k-events").prepend(item);
  showServer();
});
$("signout").addEventListener("click", () => keeper.clear());
showKeeper();
document.body.dataset.ready = "true";
