#!/usr/bin/env bash
# Builds the two wasm modules and their JS glue: cargo -> wasm-bindgen -> wasm-opt.
#   pkg/tokenkeeper_bg.wasm               decoding and the keeper (the `tokenkeeper` entry)
#   pkg/decode/tokenkeeper_decode_bg.wasm decoding only (the `tokenkeeper/decode` entry)
# Both at opt-level 3 (Cargo.toml): "s" or "z" make the keeper's module 6-9 KB smaller (gzip)
# but decoding in Node 2-2.5x slower, even with the decoding functions marked
# #[optimize(speed)] (README, "Size"). With the pinned nightly (scripts/setup.sh installs it),
# std is rebuilt with panics that abort at once: no panic messages, no formatting machinery in
# the modules (-3.1 KB gzip for the keeper's, -3.5 KB for the decoding one).
# TOKENKEEPER_STABLE=1 builds with the stable toolchain instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/toolchain.sh

# name, cargo feature flags, target dir, out dir
build() {
  local name=$1 features=$2 target_dir=$3 out_dir=$4
  local args=(build --release --target wasm32-unknown-unknown --lib --quiet --target-dir "$target_dir")
  if [ "${TOKENKEEPER_STABLE:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    cargo "${args[@]}" $features
  else
    # shellcheck disable=SC2086
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
      cargo "+$NIGHTLY" "${args[@]}" -Zbuild-std=std,panic_abort $features
  fi
  wasm-bindgen --target web --out-dir "$out_dir" --out-name "$name" \
    "$target_dir/wasm32-unknown-unknown/release/tokenkeeper.wasm"
  # binaryen from npm: Debian's wasm-opt writes modules that fail to load (see TOOLCHAIN.md).
  node_modules/.bin/wasm-opt -O3 \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out_dir/${name}_bg.wasm" -o "$out_dir/${name}_bg.wasm"
  echo "build: $out_dir/${name}_bg.wasm $(wc -c < "$out_dir/${name}_bg.wasm") bytes"
}

rm -rf pkg
build tokenkeeper "" target/keeper pkg
build tokenkeeper_decode "--no-default-features" target/decode pkg/decode
