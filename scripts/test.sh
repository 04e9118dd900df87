#!/usr/bin/env bash
# The test command: installs what is missing, then lint + typecheck every Nx project and runs every
# jest project once; ends with a plain "N passed, N failed" line taken from jest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export CI=true NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
mkdir -p tmp

status=0
npx nx run-many -t lint typecheck --output-style=static --parallel=2 --skip-nx-cache || status=1

npx jest --ci --maxWorkers=2 --json --outputFile=tmp/jest-results.json "$@" || status=1
node scripts/jest-summary.cjs tmp/jest-results.json || status=1
exit $status
