#!/usr/bin/env bash
# `npm run bench`: the services, a fresh build, then every bench in one go on this machine
# (bench/all.ts: references, gateway, pipeline, the processor scale series, one summary table).
# A quick run: BENCH_SCALE=10000,100000 npm run bench, or BENCH_ONLY=reference,scale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/bin/lib.sh"
cd "$ROOT"
ensure_node_modules
ensure_build
bash infra/kafka/kafka.sh start
node dist/infra/cli/kafka-ready.js 90
bash infra/postgres/postgres.sh ensure
TS="node_modules/.bin/ts-node -r tsconfig-paths/register --transpile-only"
export BENCH_SKIP_BUILD=1
$TS bench/all.ts
$TS bench/publisher-delivery.ts
