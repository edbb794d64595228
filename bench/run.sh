#!/usr/bin/env bash
# `npm run bench`: the services, a fresh build, then every bench in one go on this machine
# (bench/all.ts: references incl. the minimal gateway and pipeline, gateway, pipeline closed and
# open loop, the scale bench up to 10M stored conversions; the targets of issue #17 met or missed).
# A quicker run: BENCH_SCALE_MAX=1000000 npm run bench (stores up to 1M), or BENCH_ONLY=reference,scale.
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
