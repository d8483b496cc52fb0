#!/usr/bin/env bash
# Builds Gatehouse and runs the shared proxy benchmark with it as the candidate, beside nginx,
# HAProxy, Caddy, Squid and tinyproxy, in one run. Extra settings pass through the environment,
# e.g. SCENARIOS="a b c" REPS=3 bench/run.sh. See ../shared/bench/README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
harness="${HARNESS:-$here/../../shared/bench/compare.sh}"
(cd "$here/.." && mvn -B -q package -DskipTests)
export CANDIDATE_CMD="$here/candidate.sh"
export CANDIDATE_REVERSE_PORT="${CANDIDATE_REVERSE_PORT:-24901}"
export CANDIDATE_FORWARD_PORT="${CANDIDATE_FORWARD_PORT:-24902}"
export CANDIDATE_TLS_PORT="${CANDIDATE_TLS_PORT:-24903}"
exec "$harness"
