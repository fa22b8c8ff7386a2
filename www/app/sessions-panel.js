// The token server's sign-ins, with a force-logout button per row. The row of this tab's
// session is the one whose id is the access token's `sid` claim.
import { $, el, postJson, shortId, timeOf } from "./dom.js";

const POLL_MS = 1500;

export function showSessions(host, timeline) {
  const body = $("sessions").tBodies[0];

  const row = (s, mine) => {
    const status = s.revoked ? "revoked" : "active";
    const badges = [s.dpop && "DPoP", s.heldBy === "backend" && "BFF", mine && "this tab"].filter(Boolean);
    const button = el("button", {
      type: "button",
      className: "danger small",
      disabled: s.revoked,
      textContent: "Force logout",
    });
    button.addEventListener("click", async () => {
      button.disabled = true;
      await postJson(`/demo/sessions/${encodeURIComponent(s.id)}/revoke`);
      timeline.add({
        source: "you",
        kind: "force-logout",
        text: `force logout of session ${shortId(s.id)} (${s.user}) at the server`,
      });
      refresh();
    });
    const cell = (label, ...content) => el("td", { data: { label } }, ...content);
    return el(
      "tr",
      { data: { session: s.id, status, ...(mine && { mine: "true" }) } },
      cell("user", s.user, ...badges.map((b) => el("span", { className: "badge" }, b))),
      cell("device", s.device),
      cell("created", timeOf(s.createdAt)),
      cell("last refresh", s.lastRefreshAt ? timeOf(s.lastRefreshAt) : "—"),
      cell("refreshes", String(s.refreshes)),
      cell("status", status),
      cell("", button),
    );
  };

  let shown = "";
  async function refresh() {
    try {
      const sessions = await (await fetch("/demo/sessions")).json();
      const mine = host.keeper.claims?.sid;
      const key = JSON.stringify([sessions, mine]);
      if (key === shown) return; // nothing changed: keep the buttons under the pointer
      shown = key;
      sessions.sort((a, b) => b.createdAt - a.createdAt);
      const rows = sessions.map((s) => row(s, s.id === mine));
      body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colSpan: 7 }, "No sign-ins yet."))]));
    } catch {
      // The demo server went away; keep trying quietly.
    }
  }

  for (const event of ["changed", "cleared"]) host.on(event, refresh);
  setInterval(refresh, POLL_MS);
  refresh();
}
