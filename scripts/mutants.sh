#!/usr/bin/env bash
# `npm run mutants`: cargo-mutants over the refresh protocol's decisions (by hand; about 40
# minutes on 2 cores): each mutant of the step machine and of "may I hand out the token?" is
# built and run against the host tests that drive the protocol (tests/refresh_*.rs,
# tests/keeper_state.rs). Other files: `npm run mutants -- --file src/clock.rs`. The report is
# in mutants.out/ (missed.txt: the mutants no test noticed).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked || cargo install cargo-mutants
# The refresh protocol's test files, one per concern (tests/refresh_*.rs), and the keeper's.
test_targets=(--test keeper_state)
for file in tests/refresh_*.rs; do test_targets+=(--test "$(basename "$file" .rs)"); done
cargo mutants --jobs 1 --timeout 120 \
  --file src/refresh.rs --file src/keeper/access.rs \
  "$@" -- "${test_targets[@]}"
