// The sign-in card: the choices (kept in settings), the button, and what happened. The
// choices that shape the keeper (mode, DPoP) rebuild it; the form hides while signed in.
import { $ } from "./dom.js";
import { saveSettings } from "./settings.js";
import { startSignIn } from "./sign-in.js";
import { signInAtBackend } from "./bff-client.js";

const STORAGE_TEXT = {
  local: "remembered (localStorage)",
  session: "this tab only (sessionStorage)",
  memory: "in memory",
};

export function wireSignInForm(host, config, settings) {
  const form = $("signin-form");
  const status = (text, state = "info") => {
    $("signin-status").textContent = text;
    $("signin-status").dataset.state = state;
  };

  $(`mode-${settings.mode}`).checked = true;
  $("remember").checked = settings.remember;
  $("dpop").checked = settings.dpop;
  $("isolation").checked = settings.worker;
  $("user").value = settings.user;

  const reflect = () => {
    const keeper = host.keeper;
    const signedIn = keeper.accessToken !== undefined;
    form.hidden = signedIn;
    const bff = settings.mode === "bff";
    $("dpop").disabled = bff;
    $("isolation").disabled = bff;
    $("dpop-note").textContent = bff
      ? "(In BFF mode the backend holds the refresh token; DPoP is for the browser mode.)"
      : "";
    document.body.dataset.mode = host.built.mode;
    if (signedIn) {
      const where =
        host.built.mode === "bff"
          ? "refresh token on the server (BFF)"
          : host.built.worker
            ? "refresh token in the keeper's worker"
            : "refresh token in the browser";
      const dpop = keeper.tokenType === "DPoP" ? " · DPoP-bound" : "";
      status(`Signed in as ${keeper.claims?.sub} · ${where} · ${STORAGE_TEXT[keeper.storageKind]}${dpop}`, "ok");
    }
  };

  form.addEventListener("change", () => {
    const next = {
      mode: form.elements.mode.value,
      remember: $("remember").checked,
      dpop: $("dpop").checked,
      worker: $("isolation").checked,
      user: $("user").value.trim() || "ada",
    };
    const rebuild = next.mode !== settings.mode || next.dpop !== settings.dpop || next.worker !== settings.worker;
    Object.assign(settings, next);
    saveSettings(settings);
    if (rebuild) host.build(settings);
    reflect();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status("Going to the token server…");
    try {
      if (settings.mode === "bff") return signInAtBackend(settings.user);
      await startSignIn({ config, keeper: host.keeper, user: settings.user, dpop: settings.dpop });
    } catch (e) {
      status(`Sign-in failed: ${e.message}`, "error");
    }
  });

  host.on("changed", reflect);
  host.on("cleared", ({ reason }) => {
    reflect();
    status(`Signed out (${reason}).`, reason === "logout" ? "info" : "error");
  });
  host.onRebuild(reflect);
  reflect();
  return { status };
}
