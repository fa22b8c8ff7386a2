#!/usr/bin/env bash
# Builds the two wasm modules and their JS glue: cargo -> wasm-bindgen -> wasm-opt.
#   pkg/tokenkeeper_bg.wasm              decoding and the keeper (the `tokenkeeper` entry)
#   pkg/decode/tokenkeeper_decode_bg.wasm decoding only (the `tokenkeeper/decode` entry)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# name, cargo feature flags, target dir, out dir
build() {
  local name=$1 features=$2 target_dir=$3 out_dir=$4
  # shellcheck disable=SC2086
  cargo build --release --target wasm32-unknown-unknown --lib --quiet $features --target-dir "$target_dir"
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
build tokenkeeper "" target pkg
build tokenkeeper_decode "--no-default-features" target/decode pkg/decode
