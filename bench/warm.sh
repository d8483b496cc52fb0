#!/usr/bin/env bash
# Warms the candidate's JIT on every path the harness measures, during the harness's own prewarm:
# started in the background by bench/candidate.sh, it waits for the candidate's ports, then runs
# WARM_ROUNDS rounds (default 2) of WARM_STEP seconds (default 3) of each load shape: keep-alive
# 1 KiB, 1 MiB bodies, a new connection per request, TLS HTTP/1.1, TLS h2, forward GET, CONNECT
# tunnels and CONNECT 1 MiB. The harness's prewarm covers only keep-alive, TLS and forward GET; a
# path first met in rep 1 compiled (and deoptimized shared code) during the measured runs, on the
# pinned core: ~9% of the candidate's measured CPU at dc905bc (docs/benchmarks.md). Two rounds so
# that profiles already see every shape when C2 compiles. Bounded: the whole warm-up stops after
# WARM_MAX seconds (default 55, or 3.5 x CANDIDATE_PREWARM if less), before the harness's prewarm ends.
# Environment: the harness's ORIGIN, CANDIDATE_*_PORT, CLIENT_CPU, HARNESS_DIR.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
harness_dir="${HARNESS_DIR:-$here/../../shared/bench}"
step="${WARM_STEP:-3}"
rounds="${WARM_ROUNDS:-2}"
# The harness's prewarm lasts about 4 x CANDIDATE_PREWARM (default 15 s) plus the peers' own; a
# shorter one (when the environment says so) shortens this bound, so no measured run is disturbed.
end=$((SECONDS + ${WARM_MAX:-$(( ${CANDIDATE_PREWARM:-15} * 7 / 2 < 55 ? ${CANDIDATE_PREWARM:-15} * 7 / 2 : 55 ))}))
client=(taskset -c "${CLIENT_CPU:-0}")
rev="${CANDIDATE_REVERSE_PORT:-}" tls="${CANDIDATE_TLS_PORT:-}" fwd="${CANDIDATE_FORWARD_PORT:-}"

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $rev $tls $fwd; do
  until up "$port"; do [ $SECONDS -lt $end ] || exit 0; sleep 0.2; done
done
# run SECONDS COMMAND...: one shape, cut at the step or at the overall bound, whichever is first
run() {
  local left=$((end - SECONDS)) secs=$1; shift
  [ "$left" -gt 0 ] || exit 0
  [ "$secs" -le "$left" ] || secs=$left
  "${client[@]}" timeout $((secs + 5)) "$@" >/dev/null 2>&1 || true
}
wrk_for() { local secs=$1 conns=$2; shift 2; run "$secs" wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s "$@"; }
tunnel() { [ -f "$harness_dir/tunnel.py" ] && run "$1" python3 "$harness_dir/tunnel.py" --origin "$ORIGIN" \
  --proxy "127.0.0.1:$fwd" --mode "$2" --seconds "$1" --threads 4; }

for _ in $(seq "$rounds"); do
  if [ -n "$rev" ]; then
    wrk_for "$step" 64 "http://127.0.0.1:$rev/small"
    wrk_for "$step" 16 "http://127.0.0.1:$rev/large"
    wrk_for "$step" 64 -H "Connection: close" "http://127.0.0.1:$rev/small"
  fi
  if [ -n "$tls" ]; then
    wrk_for "$step" 64 "https://127.0.0.1:$tls/small"
    run "$step" h2load -t1 -c64 -m10 -D"$step" "https://127.0.0.1:$tls/small"
  fi
  if [ -n "$fwd" ] && [ -n "${ORIGIN:-}" ]; then
    [ -f "$harness_dir/fwd.lua" ] && wrk_for "$step" 64 -s "$harness_dir/fwd.lua" "http://127.0.0.1:$fwd"
    tunnel "$step" rate
    tunnel "$step" tput
  fi
done
