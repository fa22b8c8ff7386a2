// @ts-check
// The moments a page wakes up (timers in background tabs are throttled or frozen, and a
// sleeping laptop fires nothing), and localStorage changes made by other tabs. Nothing here
// in Node or during server-side rendering: there is no window.

/**
 * Listens; returns the function that stops listening.
 * @param {{ wake: () => void, storage?: (key: string | null) => void }} on
 */
export function listenToPage(on) {
  if (typeof window !== "object" || typeof window.addEventListener !== "function") return () => {};
  /** @type {[EventTarget, string, EventListener][]} */
  const added = [];
  const listen = (/** @type {EventTarget} */ target, /** @type {string} */ type, /** @type {EventListener} */ fn) => {
    target.addEventListener(type, fn);
    added.push([target, type, fn]);
  };
  for (const type of ["focus", "pageshow", "online"]) listen(window, type, () => on.wake());
  if (typeof document === "object") {
    listen(document, "visibilitychange", () => {
      if (document.visibilityState === "visible") on.wake();
    });
  }
  const storage = on.storage;
  if (storage) listen(window, "storage", (event) => storage(/** @type {StorageEvent} */ (event).key));
  return () => {
    for (const [target, type, fn] of added) target.removeEventListener(type, fn);
  };
}

/** The page's origin where there is a page (the default allow-list for keeper.fetch). */
export function pageOrigin() {
  const origin = typeof location === "object" && location ? location.origin : undefined;
  return typeof origin === "string" && origin !== "null" ? origin : undefined;
}

/** The base URL relative URLs resolve against, as fetch resolves them. */
export function baseUrl() {
  if (typeof document === "object" && document && typeof document.baseURI === "string") return document.baseURI;
  return typeof location === "object" && location ? location.href : undefined;
}

/** Resolves `input` (a URL string, a URL or a Request) exactly as fetch would; null if it
 *  is not a URL. */
export function resolveUrl(/** @type {unknown} */ input) {
  try {
    if (typeof Request === "function" && input instanceof Request) return input.url;
    return new URL(String(input), baseUrl()).href;
  } catch {
    return null;
  }
}
