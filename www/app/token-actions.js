// The signed-in user's buttons: refresh now, call the API (with keeper.fetch), sign out everywhere.
import { $ } from "./dom.js";

export function wireTokenActions(host, timeline, config) {
  const you = (kind, text, data) => timeline.add({ source: "you", kind, text, data });

  $("refresh").addEventListener("click", async () => {
    you("refresh", "refresh now");
    // Failures reach the timeline as keeper events; nothing more to do here.
    await host.keeper.refresh().catch(() => {});
  });

  $("callapi").addEventListener("click", async () => {
    const result = $("api-result");
    try {
      const res = await host.keeper.fetch(config.apiEndpoint);
      const body = await res.json().catch(() => ({}));
      let text = `API ${res.status}`;
      if (res.ok) text += ` · user ${body.sub}`;
      if (body.cnfJkt) {
        const mine = host.built.dpop ? await host.keeper.dpopThumbprint().catch(() => undefined) : undefined;
        text += ` · bound to key ${body.cnfJkt}${mine === body.cnfJkt ? " (this browser's key)" : ""}`;
      } else if (res.ok) {
        text += " · a Bearer token: whoever holds it can use it";
      }
      result.textContent = text;
      result.dataset.status = String(res.status);
      result.dataset.bound = String(Boolean(body.cnfJkt));
      you("api", text, { status: String(res.status) });
    } catch (e) {
      result.textContent = `API call failed: ${e.code ?? e.name}`;
      result.dataset.status = "failed";
      you("api", result.textContent, { status: "failed" });
    }
  });

  $("signout").addEventListener("click", () => {
    you("sign-out", "sign out everywhere");
    host.keeper.clear();
  });
}
