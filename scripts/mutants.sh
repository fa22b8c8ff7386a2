#!/usr/bin/env bash
# `npm run mutants`: cargo-mutants over the refresh protocol's decisions (by hand; about 40
# minutes on 2 cores): each mutant of the step machine and of "may I hand out the token?" is
# built and run against the host tests that drive the protocol (tests/keeper_refresh.rs,
# tests/keeper_state.rs). Other files: `npm run mutants -- --file src/clock.rs`. The report is
# in mutants.out/ (missed.txt: the mutants no test noticed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked || cargo install cargo-mutants
cargo mutants --jobs 1 --timeout 120 \
  --file src/refresh.rs --file src/keeper/access.rs \
  "$@" -- --test keeper_refresh --test keeper_state
