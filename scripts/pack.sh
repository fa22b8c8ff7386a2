#!/usr/bin/env bash
# `npm run pack`: just the installable tarball, for users who want tokenkeeper before it is on
# the npm registry. Installs the build toolchain (scripts/setup.sh without --browser: no
# Chromium), builds the two wasm modules (npm pack's prepack runs scripts/build.sh), and packs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm pack --loglevel=error
