#!/usr/bin/env bash
# The unit tier on every Node line drydock supports (package.json "engines": 20, 22, 24). `npm test`
# already ran it on this machine's own node; the other lines come from npm's `node` runtime packages
# (`npx -y node@N`, cached by npm after the first download), so CI needs nothing preinstalled.
set -euo pipefail
cd "$(dirname "$0")/.."

own=$(node -p 'process.versions.node.split(".")[0]')
for major in 20 22 24; do
  if [[ $major == "$own" ]]; then
    echo "node-versions: Node $major is this machine's node: its unit tier ran in npm test" >&2
    continue
  fi
  echo "node-versions: the unit tier on Node $major ($(npx -y "node@$major" --version))" >&2
  npx -y "node@$major" node_modules/vitest/vitest.mjs run --config test/vitest.config.ts --project unit
done
