#!/usr/bin/env bash
# `npm run demo`: installs the npm packages from the lock file when node_modules is missing or older
# than the lock file, then runs `fedsnell demo` (a coordinator and four local Node clients federating
# SNELL on MNIST digits from the shipped backbone; results in ./out). Extra flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "demo: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node bin/fedsnell.cjs demo "$@"
