// The current token: who, where it is stored, its type and times, its claims, and a live
// countdown to the next refresh — computed as the keeper schedules it: `refreshBeforeSeconds`
// before expiry, that margin shrunk to half the lifetime for short-lived tokens, and up to
// 10 % of it earlier for jitter.
import { $, seconds, shortId, timeOf } from "./dom.js";
import { REFRESH_BEFORE_SECONDS } from "./keeper-host.js";

const STORAGE_NOTES = {
  local: "shared by this app's tabs, survives a browser restart",
  session: "this tab only",
  memory: "this page only",
};

/** When the keeper will refresh `keeper`'s token (epoch ms), and the margin it uses. */
export function refreshPlan(keeper) {
  const exp = keeper.expiresAt;
  if (exp === undefined) return null;
  const iat = keeper.claims?.iat;
  const lifetime = typeof iat === "number" ? exp - iat : undefined;
  const margin = lifetime > 0 ? Math.min(REFRESH_BEFORE_SECONDS, lifetime / 2) : REFRESH_BEFORE_SECONDS;
  return {
    issuedAt: typeof iat === "number" ? iat * 1000 : undefined,
    refreshAt: (exp - margin) * 1000,
    expiresAt: exp * 1000,
    margin,
  };
}

export function showToken(host) {
  // What the keeper is doing, from its events: the countdown says why a due refresh waits.
  let activity = "";
  const set = (id, text) => ($(id).textContent = text);

  const render = () => {
    const keeper = host.keeper;
    const claims = keeper.claims;
    const signedIn = keeper.accessToken !== undefined;
    set("k-signed", signedIn ? "yes" : "no");
    set("k-sub", claims?.sub ?? "");
    set("k-kind", signedIn ? `${keeper.storageKind} · ${STORAGE_NOTES[keeper.storageKind]}` : "");
    set("k-type", signedIn ? (keeper.tokenType ?? "") : "");
    set("k-iat", typeof claims?.iat === "number" ? timeOf(claims.iat * 1000) : "");
    set("k-exp", keeper.expiresAt ? timeOf(keeper.expiresAt * 1000) : "");
    set("k-jti", shortId(claims?.jti));
    set("k-sid", shortId(claims?.sid));
    set("k-claims", claims ? JSON.stringify(claims, null, 2) : "");
    const offset = host.built.clockOffsetMs;
    set("k-clock", offset === 0 ? "the real one" : `${offset > 0 ? "+" : "−"}${Math.abs(offset) / 60000} min off`);
    tick();
  };

  const tick = () => {
    const plan = refreshPlan(host.keeper);
    const box = $("k-next");
    if (!plan) {
      box.dataset.state = "signed-out";
      set("k-next-text", "Signed out.");
      $("k-next-bar").style.width = "0";
      return;
    }
    const now = Date.now();
    const left = plan.refreshAt - now;
    const jitter = Math.min(plan.margin * 0.1, 5);
    if (left > 0) {
      box.dataset.state = "scheduled";
      set(
        "k-next-text",
        `Next refresh in ${seconds(left)} s — ${plan.margin} s before expiry (up to ${jitter.toFixed(1)} s earlier: jitter); ` +
          `expires in ${seconds(plan.expiresAt - now)} s`,
      );
    } else {
      box.dataset.state = now < plan.expiresAt ? "due" : "expired";
      const why = activity || "due";
      set(
        "k-next-text",
        `Refresh ${why}; the token ${now < plan.expiresAt ? `expires in ${seconds(plan.expiresAt - now)} s` : "has expired"}`,
      );
    }
    const span = plan.issuedAt !== undefined ? plan.refreshAt - plan.issuedAt : plan.margin * 1000;
    $("k-next-bar").style.width = `${Math.max(0, Math.min(1, left / span)) * 100}%`;
  };

  host.on("refreshing", () => (activity = "under way"));
  host.on("refreshed", () => (activity = ""));
  host.on("error", (d) => (activity = `held back: ${d.code}`));
  for (const event of ["changed", "cleared", "expired", "refreshed"]) host.on(event, render);
  host.onRebuild(() => {
    activity = "";
    render();
  });
  setInterval(tick, 250);
  render();
}
