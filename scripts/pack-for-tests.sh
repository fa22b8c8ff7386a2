#!/usr/bin/env bash
# Packs the package (as `npm pack` would publish it) and installs the tarball into a scratch
# project, tests/.scratch, from which the JavaScript tests import it like a user would.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=tests/.scratch
rm -rf "$scratch"
mkdir -p "$scratch"
# The build already ran; --ignore-scripts skips the prepack rebuild.
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$scratch")
cat > "$scratch/package.json" <<'JSON'
{ "name": "tokenkeeper-scratch", "private": true, "type": "module" }
JSON
(cd "$scratch" && npm install --no-audit --no-fund --loglevel=error "./$tarball" >/dev/null)
cat > "$scratch/entry.mjs" <<'JS'
export * from "tokenkeeper";
export { default } from "tokenkeeper";
JS
echo "pack: $scratch/$tarball ($(wc -c < "$scratch/$tarball") bytes) installed"
cp tests/types/consumer.ts "$scratch/consumer.ts"
cat > "$scratch/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true, "exactOptionalPropertyTypes": true, "noEmit": true, "target": "es2022",
    "module": "nodenext", "moduleResolution": "nodenext", "lib": ["es2022", "dom"],
    "skipLibCheck": false, "types": []
  },
  "files": ["consumer.ts"]
}
JSON
# The same types in a Node project without the DOM lib (server-side rendering, an app's tests).
cp tests/types/node-consumer.ts "$scratch/node-consumer.ts"
cat > "$scratch/tsconfig.node.json" <<'JSON'
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "es2022", "module": "nodenext",
    "moduleResolution": "nodenext", "lib": ["es2022"], "skipLibCheck": false, "types": ["node"]
  },
  "files": ["node-consumer.ts"]
}
JSON
