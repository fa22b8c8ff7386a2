#!/usr/bin/env bash
# `npm run size`: build, then report sizes and check the committed budget.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
node bench/size.mjs
