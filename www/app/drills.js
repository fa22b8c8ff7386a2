// The buttons that make things happen: a second tab, failing refreshes, a lost network and a
// skewed clock. Each says on the timeline what it did.
import { $, postJson } from "./dom.js";

const FIVE_MINUTES_MS = 5 * 60 * 1000;

const FAILURE_TEXT = {
  500: "the next token request answers 500",
  429: "the next token request answers 429 with Retry-After: 1",
  invalid_grant: "the next token request answers invalid_grant",
  "no-cors": "the next token answer comes without CORS headers (the refresh token rotates all the same)",
};

export function wireDrills(host, timeline) {
  const you = (kind, text) => timeline.add({ source: "you", kind, text });

  $("open-tab").addEventListener("click", () => {
    // noopener: a tab of its own, which does not start with a copy of this one's sessionStorage.
    window.open(`${location.origin}/`, "_blank", "noopener");
    you("open-tab", "opened a second tab");
  });

  for (const button of $("fail-buttons").querySelectorAll("button[data-kind]")) {
    button.addEventListener("click", async () => {
      const kind = button.dataset.kind;
      await postJson("/demo/fail", { kind });
      const bffNote =
        host.built.mode === "bff" && kind === "no-cors" ? " (the backend is no browser: CORS does not apply)" : "";
      you(`fail-${kind}`, `${FAILURE_TEXT[kind]}${bffNote}`);
    });
  }

  const offline = $("offline");
  offline.addEventListener("click", async () => {
    const goOffline = offline.getAttribute("aria-pressed") !== "true";
    await postJson("/demo/offline", { offline: goOffline });
    showOffline(goOffline);
    you(
      goOffline ? "offline" : "online",
      goOffline ? "went offline: the servers drop every token request" : "back online",
    );
    // What the browser fires when the network returns; the keeper retries at once on it.
    if (!goOffline) dispatchEvent(new Event("online"));
  });
  function showOffline(isOffline) {
    offline.setAttribute("aria-pressed", String(isOffline));
    offline.textContent = isOffline ? "Go online" : "Go offline";
    document.body.dataset.offline = String(isOffline);
  }

  const skew = (offsetMs) => {
    host.build({ ...host.built, clockOffsetMs: offsetMs });
    const what =
      offsetMs === 0
        ? "the real clock"
        : `a clock ${Math.abs(offsetMs) / 60000} min ${offsetMs > 0 ? "ahead" : "behind"}`;
    you("clock", `keeper rebuilt with ${what}`);
    // The clock offset stored with the tokens was measured with the old clock, and the keeper
    // trusts it on restore; a refresh now makes it measure the server's clock with the new one.
    if (host.keeper.accessToken !== undefined) {
      you("refresh", "refresh now, so that the keeper measures the server's clock with its new one");
      host.keeper.refresh().catch(() => {});
    }
  };
  $("skew-behind").addEventListener("click", () => skew(-FIVE_MINUTES_MS));
  $("skew-ahead").addEventListener("click", () => skew(FIVE_MINUTES_MS));
  $("skew-reset").addEventListener("click", () => skew(0));

  return { showOffline };
}
