#!/usr/bin/env bash
# The whole test suite: lint + typecheck, system packages the tests need, then node's test runner.
# `--no-lint` skips the static checks (for a quick local run); CI always runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-lint" ]; then
  npx biome check .
  npx tsc -p tsconfig.json
fi
bash scripts/ensure-system-deps.sh
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
