// What script in a page can read of what is stored: for the isolation tests, which look there
// for refresh-token text.

/**
 * Runs in the page (`page.evaluate(storedInPage)`): every web storage entry and every
 * IndexedDB value of the origin, as text, and the web storage keys.
 * @returns {Promise<{ parts: string[], keys: string[] }>}
 */
export async function storedInPage() {
  const parts = [];
  for (const storage of [sessionStorage, localStorage]) {
    for (let i = 0; i < storage.length; i++) parts.push(storage.key(i), storage.getItem(storage.key(i)));
  }
  const asText = (value) =>
    value instanceof ArrayBuffer || ArrayBuffer.isView(value)
      ? new TextDecoder().decode(value)
      : value && typeof value === "object"
        ? Object.values(value).map(asText).join(" ")
        : String(value);
  for (const { name } of await indexedDB.databases()) {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    for (const store of db.objectStoreNames) {
      const values = await new Promise((resolve) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => resolve(r.result);
      });
      parts.push(...values.map(asText));
    }
    db.close();
  }
  const keys = [sessionStorage, localStorage].flatMap((s) => Array.from({ length: s.length }, (_, i) => s.key(i)));
  return { parts, keys };
}
