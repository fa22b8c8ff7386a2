// What the servers saw, for the page's timeline: the issuer's own request records (they carry
// no token text) merged with what never reached the issuer — connections the offline switch
// dropped, answers the CORS drill stripped. One list, read by position so that every tab can
// poll it from where it stopped.

/** Paths whose requests the timeline shows (preflights, files and probes stay out). */
const SHOWN_PATHS = new Set(["/authorize", "/token", "/revoke", "/api/me"]);

export class RequestLog {
  #entries = [];
  #issuerRecords;
  #copied = 0;

  /** @param {{ requests: object[] }} issuerStats the issuer's live stats */
  constructor(issuerStats) {
    this.#issuerRecords = issuerStats.requests;
  }

  /** Adds an entry of the demo's own (`source`: who saw it). */
  add(source, { method, path, outcome, note }) {
    this.#sync();
    this.#entries.push({ at: Date.now(), source, method, path, outcome, ...(note && { note }) });
  }

  /** Entries from position `since` on, and the position to ask from next time. */
  since(since) {
    this.#sync();
    const from = Number.isInteger(since) && since >= 0 ? since : 0;
    return { entries: this.#entries.slice(from), next: this.#entries.length };
  }

  /** Copies the issuer's records made since the last look, keeping only what the page shows. */
  #sync() {
    const records = this.#issuerRecords;
    for (; this.#copied < records.length; this.#copied++) {
      const r = records[this.#copied];
      if (!SHOWN_PATHS.has(r.path)) continue;
      this.#entries.push({
        at: r.at,
        source: "issuer",
        method: r.method,
        path: r.path,
        outcome: r.outcome,
        // A browser's fetch to the token endpoint sends Origin; the BFF's server-side calls do not.
        ...(r.path === "/token" || r.path === "/revoke" ? { by: r.origin ? "browser" : "backend" } : {}),
        ...(r.grant && { grant: r.grant }),
        ...(r.reason && { note: r.reason }),
        ...(r.injected && { injected: r.injected }),
      });
    }
  }
}
