# The pinned nightly the wasm build uses for -Zbuild-std (sourced by setup.sh and build.sh).
NIGHTLY=nightly-2026-10-20
