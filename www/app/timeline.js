// The timeline: entries in time order, newest first, from this tab's keeper, the user's
// actions and the servers' request log. Entries carry no token text.
import { el, timeOf } from "./dom.js";

const MAX_ENTRIES = 300;
const SOURCE_LABELS = { tab: "this tab", you: "you", server: "server" };

export class Timeline {
  #list;

  constructor(list) {
    this.#list = list;
  }

  /**
   * @param {{ source: "tab" | "you" | "server", kind: string, text: string, at?: number,
   *   data?: Record<string, string> }} entry
   */
  add({ source, kind, text, at = Date.now(), data = {} }) {
    const item = el(
      "li",
      { data: { source, kind, at: String(at), ...data } },
      el("time", {}, timeOf(at)),
      el("span", { className: `tag ${source}` }, SOURCE_LABELS[source]),
      el("span", { className: "what" }, text),
    );
    // Server entries arrive up to a second late: put each where its time says.
    const later = [...this.#list.children].find((li) => Number(li.dataset.at) <= at);
    this.#list.insertBefore(item, later ?? null);
    while (this.#list.children.length > MAX_ENTRIES) this.#list.lastElementChild.remove();
  }
}

/** Puts every event of the host's keepers on the timeline. */
export function followKeeper(host, timeline) {
  const describe = {
    changed: (d) => `changed · ${d.origin} · stored in ${d.storageKind}`,
    refreshing: () => "refreshing",
    refreshed: (d) => `refreshed · new token until ${d.expiresAt ? timeOf(d.expiresAt * 1000) : "?"}`,
    expired: () => "expired · the access token lapsed with nothing fresher to replace it",
    error: (d) =>
      `error · ${d.code}${d.retryAfterSeconds !== undefined ? ` · retry after ${d.retryAfterSeconds} s` : ""} · ${d.message}`,
    cleared: (d) => `cleared · reason: ${d.reason}`,
    "idle-warning": (d) => `idle warning · signing out in ${d.secondsLeft} s`,
  };
  for (const [event, text] of Object.entries(describe)) {
    host.on(event, (detail) => {
      const data = {
        ...(detail.code && { code: detail.code }),
        ...(detail.reason && { reason: detail.reason }),
        ...(detail.origin && { origin: detail.origin }),
      };
      timeline.add({ source: "tab", kind: event, text: text(detail), data });
    });
  }
}
