#!/usr/bin/env bash
# `npm test`: every test, in every place the code runs. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo; echo "=== $* ==="; }

step "setup"
bash scripts/setup.sh --browser

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings (host and wasm32; with and without the keeper)"
cargo clippy --all-targets --quiet -- -D warnings
cargo clippy --all-targets --target wasm32-unknown-unknown --quiet -- -D warnings
cargo clippy --lib --no-default-features --target wasm32-unknown-unknown --quiet -- -D warnings

step "host tests (cargo test), including the generated JS constants being current"
cargo test --quiet

step "fuzzing, bounded: every cargo-fuzz target for 8 s from the seeds (npm run fuzz runs longer)"
bash scripts/fuzz.sh --smoke

step "wasm tests in Node and headless Chromium (wasm-bindgen-test-runner)"
CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown

step "build the package"
bash scripts/build.sh

step "JavaScript (after the build: the facade imports the generated pkg/): tsc --checkJs over the facade (every file // @ts-check), prettier --check over the repository"
node_modules/.bin/tsc -p tsconfig.check.json
node_modules/.bin/prettier --check . >/dev/null

step "pack and install into a scratch project"
bash scripts/pack-for-tests.sh

tarball=$(ls tests/.scratch/tokenkeeper-*.tgz)

step "packaging lint (publint) of the packed tarball"
node_modules/.bin/publint run --strict "$tarball"

step "types of every entry, resolved as Node and bundlers would (@arethetypeswrong/cli) from the packed tarball"
# --profile esm-only: the package is ESM only ("type": "module", Node >= 20, no CommonJS build),
# so `require()` from CommonJS (node16-cjs) and the pre-exports `moduleResolution: node10`
# (which knows no subpath exports; deprecated in TypeScript 6) are not supported resolutions.
# --no-definitely-typed: the package ships its own types; nothing to fetch from the registry.
node_modules/.bin/attw --profile esm-only --no-definitely-typed "$tarball"

step "TypeScript: the shipped types compile a consumer (tsc --strict), and a Node one without the DOM lib"
(cd tests/.scratch && ../../node_modules/.bin/tsc -p . && ../../node_modules/.bin/tsc -p tsconfig.node.json)

step "size budget (size-budget.json)"
node bench/size.mjs --check

step "memory: no wasm growth over 1,000,000 decodes and 10,000 keepers"
node bench/memory.mjs

step "JavaScript tests of the packed package (Node and Chromium)"
# A test that hangs (a timeout that no longer fires) fails after 5 minutes instead of stalling CI.
node --test --test-concurrency=1 --test-timeout=300000 tests/js/

step "token-leak scan over the whole JavaScript run (errors, events, console lines, URLs)"
node tests/support/leak-scan.mjs --check
