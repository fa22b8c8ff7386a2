#!/usr/bin/env bash
# npm pack's prepack: the build. npm also runs this hook before `npm run pack` (a "pre" script
# runs before the script of the same name), when the toolchain may not be there yet; there it
# does nothing, and scripts/pack.sh's own `npm pack` builds after setting up.
set -euo pipefail
case "${npm_command:-}" in run | run-script) exit 0 ;; esac
exec bash "$(dirname "$0")/build.sh"
