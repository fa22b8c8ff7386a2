#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers and of the facade boundary (cargo-fuzz, libFuzzer;
# the targets are in fuzz/fuzz_targets/, what each checks is in fuzz/README.md).
#
#   bash scripts/fuzz.sh               every target for ${FUZZ_SECONDS:-600} s, one at a time
#   bash scripts/fuzz.sh --smoke       every target for ${FUZZ_SMOKE_SECONDS:-8} s (npm test)
#   bash scripts/fuzz.sh decode url    only these targets (with either mode)
#
# Installs what it needs, once: the pinned nightly toolchain (cargo-fuzz needs nightly) and
# cargo-fuzz. Each target runs on a working corpus in fuzz/target/corpus/<target> (kept
# between runs, out of git; a fresh one from the seeds for --smoke) plus the committed seeds
# in fuzz/corpus/<target>; a crash is saved under fuzz/artifacts/<target>/ and makes the
# script fail after the other targets ran.
# Prints a table of executions (libFuzzer's stat::number_of_executed_units) and coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

NIGHTLY=nightly-2026-10-20
CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(decode record token_response options calls url)

seconds=${FUZZ_SECONDS:-600}
smoke=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --smoke)
      smoke=1
      seconds=${FUZZ_SMOKE_SECONDS:-8}
      ;;
    -*)
      echo "fuzz: unknown option $arg" >&2
      exit 2
      ;;
    *) targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
say() { echo "fuzz: $*"; }

if ! rustup toolchain list | grep -q "^$NIGHTLY"; then
  say "installing the $NIGHTLY toolchain (once, ~30 s)"
  rustup toolchain install "$NIGHTLY" --profile minimal
fi
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (once, ~2 min)"
  # --locked first; this registry mirror sometimes lacks a crate a lock pins, so fall back.
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked \
    || cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# Safe Rust only (no `unsafe` outside the wasm32-only modules), so no sanitizer: twice the
# executions. Debug assertions and overflow checks stay on.
fuzz_flags=(--sanitizer none --debug-assertions)
say "building the targets"
cargo "+$NIGHTLY" fuzz build "${fuzz_flags[@]}" >/dev/null

logs=fuzz/target/logs
mkdir -p "$logs"
failed=()
rows=()
for target in "${targets[@]}"; do
  corpus=fuzz/target/corpus/$target
  if [ "$smoke" = 1 ]; then
    # From the seeds alone, so that the smoke run's time does not grow with the corpus.
    corpus=fuzz/target/smoke-corpus/$target
    rm -rf "$corpus"
  fi
  mkdir -p "$corpus" "fuzz/corpus/$target"
  say "$target for ${seconds} s"
  status=ok
  # -timeout: a single input running 10 s is a hang; -max_len: the calls target's inputs are
  # sequences of requests, longer than libFuzzer's default 4096 bytes.
  if ! cargo "+$NIGHTLY" fuzz run "${fuzz_flags[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 >"$logs/$target.log" 2>&1; then
    status=FAILED
    failed+=("$target")
    grep -E "panicked|ERROR|SUMMARY|artifact" "$logs/$target.log" | head -n 8 | sed 's/^/    /' || true
  fi
  execs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$logs/$target.log" | tail -n 1)
  per_s=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$logs/$target.log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$logs/$target.log" | tail -n 1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$logs/$target.log" | tail -n 1 | awk '{print $2}')
  units=$(find "$corpus" -type f | wc -l)
  rows+=("$(printf '%-15s %8s %12s %9s %6s %7s %7s  %s' "$target" "$seconds" "${execs:-?}" "${per_s:-?}" "${cov:-?}" "${ft:-?}" "$units" "$status")")
done

echo
printf '%-15s %8s %12s %9s %6s %7s %7s  %s\n' target seconds executions exec/s cov ft corpus result
for row in "${rows[@]}"; do echo "$row"; done
echo "(logs in $logs/; cov: edges covered, ft: features; corpus: working corpus size)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/; reproduce with" \
    "cargo +$NIGHTLY fuzz run ${fuzz_flags[*]} <target> <artifact>)" >&2
  exit 1
fi
