#!/usr/bin/env bash
# Installs what building and testing need, and skips what is already there:
#   the wasm target, the wasm-bindgen CLI of the exact version in Cargo.lock,
#   npm packages (npm ci), and with --browser Debian's Chromium and ChromeDriver.
#   --npm-only: only the npm packages (`npm run docs` needs nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
npm_only=0
for arg in "$@"; do
  [ "$arg" = "--browser" ] && want_browser=1
  [ "$arg" = "--npm-only" ] && npm_only=1
done
say() { echo "setup: $*"; }

export PATH="$HOME/.cargo/bin:$PATH"

if [ "$npm_only" = 0 ]; then
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The pinned nightly (with std's source) for the size-optimised wasm build; see build.sh.
source scripts/toolchain.sh
if [ "${TOKENKEEPER_STABLE:-0}" != 1 ] && ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  say "installing $NIGHTLY with rust-src (about 30 s, once)"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi

# The CLI must match the wasm-bindgen crate exactly (the schema is versioned).
[ -f Cargo.lock ] || cargo generate-lockfile
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
have_version=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_version" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version (a few minutes, once)"
  # --locked first; this registry mirror lacks some crates the CLI's lock pins, so fall back.
  cargo install wasm-bindgen-cli --version "$wb_version" --locked \
    || cargo install wasm-bindgen-cli --version "$wb_version"
fi

if [ "$want_browser" = 1 ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  say "installing Debian's chromium and chromium-driver"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
fi

fi

# npm ci when node_modules is missing or older than the lock file.
stamp=node_modules/.tokenkeeper-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
