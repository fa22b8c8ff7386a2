#!/usr/bin/env bash
# `npm run bench`: build, then time tokenkeeper against jose and jwt-decode in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
bash scripts/build.sh
node bench/run.mjs
