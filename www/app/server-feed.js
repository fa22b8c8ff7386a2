// Polls the demo server's request log (/demo/stats) onto the timeline: each token request the
// issuer answered — retries included, which the keeper does not report one by one — and each
// connection the offline switch dropped. Also keeps the issuer's counters on show.
import { $ } from "./dom.js";

const POLL_MS = 700;
/** On opening, show what the servers saw this long ago too (the sign-in round trip). */
const LOOK_BACK_MS = 15_000;

function describe(entry) {
  const by = entry.by === "backend" ? " from the backend" : "";
  const what = `${entry.method} ${entry.path}${entry.grant ? ` (${entry.grant})` : ""}${by}`;
  const drill = entry.injected ? ` [drill: ${entry.injected}]` : "";
  const note = entry.note ? ` — ${entry.note}` : "";
  return `${what} → ${entry.outcome}${drill}${note}`;
}

/** Starts polling; `onOffline(offline)` hears the offline switch's state (another tab may flip it). */
export function followServer(timeline, { onOffline }) {
  const openedAt = Date.now();
  let since = 0;
  const poll = async () => {
    try {
      const stats = await (await fetch(`/demo/stats?since=${since}`)).json();
      since = stats.next;
      for (const entry of stats.entries) {
        if (entry.at < openedAt - LOOK_BACK_MS) continue;
        const data = {
          path: entry.path,
          outcome: entry.outcome,
          ...(entry.grant && { grant: entry.grant }),
          ...(entry.injected && { injected: entry.injected }),
        };
        timeline.add({ source: "server", kind: entry.source, text: describe(entry), at: entry.at, data });
      }
      const c = stats.counters;
      $("server-counters").textContent =
        `${c.refreshes} refreshes, ${c.reuseDetections} reuse detections, ${c.invalidGrants} invalid_grant answers, ` +
        `${c.codeExchanges} sign-ins, ${c.revocations} revocations, ${c.apiCalls} API calls`;
      onOffline(stats.offline);
    } catch {
      // The demo server went away; keep trying quietly.
    }
    setTimeout(poll, POLL_MS);
  };
  poll();
}
