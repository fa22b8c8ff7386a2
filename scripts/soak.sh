#!/usr/bin/env bash
# Tab churn soak of isolation "worker" (issue 19, acceptance 9); not part of `npm test`.
# Builds and packs the package, then runs tests/soak/isolation-soak.mjs (5 minutes by default).
#   SOAK_SECONDS=60 SOAK_MODE=page npm run soak
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SOAK_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
  bash scripts/pack-for-tests.sh
fi
node tests/soak/isolation-soak.mjs
