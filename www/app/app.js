// The demo app: loads the package, builds this tab's keeper from the sign-in choices,
// finishes a sign-in that brought the page back, and wires the panels.
import init from "tokenkeeper";
import { $ } from "./dom.js";
import { loadSettings } from "./settings.js";
import { KeeperHost } from "./keeper-host.js";
import { finishSignIn } from "./sign-in.js";
import { tokenFromBackend } from "./bff-client.js";
import { Timeline, followKeeper } from "./timeline.js";
import { followServer } from "./server-feed.js";
import { showToken } from "./token-panel.js";
import { showSessions } from "./sessions-panel.js";
import { showExposure } from "./exposure-panel.js";
import { wireSignInForm } from "./sign-in-form.js";
import { wireTokenActions } from "./token-actions.js";
import { wireDrills } from "./drills.js";
import { wireInspector } from "./inspector.js";

await init();
const config = await (await fetch("/demo/config")).json();
const settings = loadSettings();
const host = new KeeperHost(config);
const timeline = new Timeline($("timeline"));
followKeeper(host, timeline);
host.build(settings);

const form = wireSignInForm(host, config, settings);
showToken(host);
showSessions(host, timeline);
showExposure(host);
wireTokenActions(host, timeline, config);
const drills = wireDrills(host, timeline);
followServer(timeline, { onOffline: drills.showOffline });
wireInspector(host);

// The code behind the current settings; the drills only while signed in; no API answer left
// over from a session that ended.
const showCode = () => ($("keeper-code").textContent = host.code);
const showSignedIn = () => {
  const signedIn = host.keeper.accessToken !== undefined;
  for (const button of $("fail-buttons").querySelectorAll("button")) button.disabled = !signedIn;
};
host.onRebuild(() => (showCode(), showSignedIn()));
host.on("changed", showSignedIn);
host.on("cleared", () => {
  showSignedIn();
  const result = $("api-result");
  result.textContent = "";
  delete result.dataset.status;
  delete result.dataset.bound;
});
showCode();
showSignedIn();

// A sign-in that brought this page back, or (BFF) a backend session this tab has no token for.
try {
  const bffError = new URLSearchParams(location.search).get("bff_error");
  if (bffError !== null) {
    history.replaceState(null, "", location.pathname);
    throw new Error(bffError);
  }
  if (settings.mode === "spa") await finishSignIn({ config, keeper: host.keeper, ...settings });
  if (settings.mode === "bff" && host.keeper.accessToken === undefined) {
    const tokens = await tokenFromBackend();
    if (tokens) host.keeper.setTokens(tokens, { remember: settings.remember });
  }
} catch (e) {
  form.status(`Sign-in failed: ${e.message}`, "error");
}
document.body.dataset.ready = "true";
