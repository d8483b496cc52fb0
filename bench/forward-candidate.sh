#!/usr/bin/env bash
# Gatehouse as the forward-proxy candidate of ../../shared/bench/compare.sh (scenarios e and f):
#   CANDIDATE_CMD="$PWD/bench/forward-candidate.sh" CANDIDATE_FORWARD_PORT=24902 \
#     SCENARIOS="e f" /work/shared/bench/compare.sh
# Reads ORIGIN and ORIGIN_TLS (host:port) and CANDIDATE_FORWARD_PORT from the harness. The origin is on
# loopback, so a rule lists it (private destinations are otherwise refused); CONNECT may go to its two
# ports. Access log off and one event loop, as the peers run (logging off, one worker).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${ORIGIN:?set by compare.sh}" "${CANDIDATE_FORWARD_PORT:?set by compare.sh}"
origin_host=${ORIGIN%:*}
origin_port=${ORIGIN##*:}
tls_port=${ORIGIN_TLS:-}; tls_port=${tls_port##*:}
config=$(mktemp "${TMPDIR:-/tmp}/gatehouse-forward-bench.XXXXXX.yaml")
cat >"$config" <<YAML
admin: { bind: 127.0.0.1:0 }
accessLog: { enabled: false }
limits: { maxConnections: 100000, idleTimeout: 5m }
listeners:
  - name: bench
    bind: 127.0.0.1:${CANDIDATE_FORWARD_PORT}
    mode: forward
    forward:
      connectPorts: [443, ${origin_port}, ${tls_port:-443}]
      rules:
        - allow: { name: bench-origin, hosts: ["${origin_host}"] }
      default: deny
YAML
[ -f "$here/target/gatehouse.jar" ] || (cd "$here" && mvn -B -q package -DskipTests) >&2
exec java ${GATEHOUSE_JAVA_OPTS:--Dgatehouse.threads=1 -XX:+UseParallelGC -Xms256m -Xmx512m} \
  -jar "$here/target/gatehouse.jar" run -c "$config"
