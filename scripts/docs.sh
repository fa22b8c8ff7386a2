#!/usr/bin/env bash
# `npm run docs`: the API reference (TypeDoc, typedoc.json) into docs/api/. In a fresh clone it
# first installs the npm packages (npm ci; TypeDoc is one of them), and nothing else.
# Arguments go to TypeDoc: `npm run docs -- --out /tmp/api`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --npm-only
exec node_modules/.bin/typedoc "$@"
