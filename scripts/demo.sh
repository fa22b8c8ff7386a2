#!/usr/bin/env bash
# `npm run demo`: install what the build needs, build, and serve www/ on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec node www/server.mjs
