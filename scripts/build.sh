#!/usr/bin/env bash
# Builds the wasm module and its JS glue into pkg/: cargo -> wasm-bindgen -> wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --target wasm32-unknown-unknown --lib --quiet
wasm-bindgen --target web --out-dir pkg --no-typescript \
  target/wasm32-unknown-unknown/release/tokenkeeper.wasm
# binaryen from npm: Debian's wasm-opt writes modules that fail to load (see TOOLCHAIN.md).
node_modules/.bin/wasm-opt -O3 \
  --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue \
  pkg/tokenkeeper_bg.wasm -o pkg/tokenkeeper_bg.wasm
echo "build: pkg/tokenkeeper_bg.wasm $(wc -c < pkg/tokenkeeper_bg.wasm) bytes"
