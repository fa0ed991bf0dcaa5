#!/usr/bin/env bash
# The one test command (README: `npm test`): system deps, npm deps, lint + format check, typecheck, the
# contract export, then every suite.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash test/scripts/install-system-deps.sh
# `npm install` (it follows package-lock.json) rather than `npm ci`: this npm's ci refuses locks that leave out
# other platforms' optional packages (biome's), which its own install writes.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi

echo "== lint and format (biome)"
npx biome ci .
echo "== typecheck (tsc --noEmit)"
npx tsc --noEmit -p .
npx tsc --noEmit -p client/monitor
echo "== contract (JSON Schema export)"
npx tsx server/protocol/export-json-schema.ts --check
echo "== tests (vitest)"
npx vitest run --config test/vitest.config.ts "$@"
# After the tests, so a slow bench never hides their results. Ratios against bare baselines measured in the same
# run; fails only when even the best of three rounds is more than BENCH_GATE_FACTOR (default 2) times worse
# than test/bench/baseline.json. BENCH_GATE=0 skips it, and so does a run limited to some test files.
if [ "${BENCH_GATE:-1}" != "0" ] && [ $# -eq 0 ]; then
  echo "== bench (quick, ratios against test/bench/baseline.json)"
  npx tsx --no-node-snapshot test/bench/run.ts --quick --check
fi
