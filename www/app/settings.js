// The sign-in choices (mode, remember me, DPoP, isolation "worker", user), kept in localStorage so that the page
// builds the same keeper after the sign-in redirect, on reload and in a second tab. No tokens.

const KEY = "tokenkeeper-demo:settings";
const DEFAULTS = { mode: "spa", remember: false, dpop: false, worker: false, user: "ada" };

export function loadSettings() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(KEY) ?? "{}") };
  } catch {
    return { ...DEFAULTS };
  }
}

export function saveSettings(settings) {
  try {
    localStorage.setItem(KEY, JSON.stringify(settings));
  } catch {
    // Storage blocked: the choices last as long as the page.
  }
}
