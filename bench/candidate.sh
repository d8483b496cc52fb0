#!/usr/bin/env bash
# Runs Gatehouse as the candidate of ../../shared/bench/compare.sh: writes a config from the
# harness's environment (ORIGIN, CANDIDATE_*_PORT, TLS_CERT, TLS_KEY) and execs the jar.
# One event loop: the harness pins every proxy to one core.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cfg="$(mktemp "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX.yaml")"
{
  echo "admin: { bind: 127.0.0.1:0 }"
  echo "accessLog: { enabled: false }"
  echo "limits: { maxConnections: 200000, idleTimeout: 300s }"
  echo "listeners:"
  if [ -n "${CANDIDATE_REVERSE_PORT:-}" ]; then
    echo "  - { name: reverse, bind: 127.0.0.1:${CANDIDATE_REVERSE_PORT}, mode: reverse, headers: { xForwarded: true, via: true } }"
  fi
  if [ -n "${CANDIDATE_TLS_PORT:-}" ]; then
    echo "  - name: tls"
    echo "    bind: 127.0.0.1:${CANDIDATE_TLS_PORT}"
    echo "    mode: reverse"
    echo "    tls: { certificates: [ { cert: ${TLS_CERT}, key: ${TLS_KEY} } ], alpn: [h2, http/1.1] }"
  fi
  if [ -n "${CANDIDATE_FORWARD_PORT:-}" ]; then
    echo "  - name: forward"
    echo "    bind: 127.0.0.1:${CANDIDATE_FORWARD_PORT}"
    echo "    mode: forward"
    # A realistic policy: private destinations stay blocked, a rule allows the (loopback) origin.
    echo "    forward:"
    echo "      connectPorts: [443, ${ORIGIN##*:}${ORIGIN_TLS:+, ${ORIGIN_TLS##*:}}]"
    echo "      rules: [ { allow: { name: bench-origin, hosts: [\"${ORIGIN%:*}\"] } } ]"
    echo "      default: deny"
  fi
  if [ -n "${CANDIDATE_REVERSE_PORT:-}${CANDIDATE_TLS_PORT:-}" ]; then
    echo "routes: [ { name: all, cluster: origin } ]"
    echo "clusters: [ { name: origin, endpoints: [ \"${ORIGIN}\" ], pool: { maxConnections: 1024 } } ]"
  fi
} > "$cfg"
# The harness warms the candidate's JIT on keep-alive, TLS and forward GETs only; bench/warm.sh
# (in the background, bounded, done before the harness's prewarm ends) warms every measured path:
# a path first met in a measured run compiles there, on the pinned core. WARM=0 turns it off.
if [ "${WARM:-1}" != 0 ]; then
  "$here/warm.sh" >"${TMPDIR:-/tmp}/gatehouse-warm.log" 2>&1 &
fi
exec java -Dgatehouse.threads="${GATEHOUSE_THREADS:-1}" -XX:+UseParallelGC -Xms256m -Xmx512m \
  ${GATEHOUSE_JAVA_OPTS:-} -jar "$here/../target/gatehouse.jar" run -c "$cfg"
