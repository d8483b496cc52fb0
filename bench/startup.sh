#!/usr/bin/env bash
# Measures Gatehouse's start-up time (process start until its listener accepts) and idle RSS,
# for a forward listener and a reverse listener. Prints one line per run; each run is bounded.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/../target/gatehouse.jar"
[ -f "$jar" ] || (cd "$here/.." && mvn -B -q package -DskipTests)
port=${PORT:-24991}
cfg=$(mktemp "${TMPDIR:-/tmp}/gatehouse-startup.XXXXXX.yaml")
trap 'rm -f "$cfg"' EXIT
cat > "$cfg" <<YAML
admin: { bind: 127.0.0.1:$((port + 1)) }
listeners:
  - { name: egress, bind: 127.0.0.1:$port, mode: forward }
  - { name: web, bind: 127.0.0.1:$((port + 2)), mode: reverse }
routes: [ { name: all, cluster: web } ]
clusters: [ { name: web, endpoints: [ "127.0.0.1:9" ] } ]
YAML
for i in $(seq 1 "${RUNS:-5}"); do
  start=$(date +%s%N)
  java ${GATEHOUSE_JAVA_OPTS:-} -jar "$jar" run -c "$cfg" >/dev/null 2>&1 &
  pid=$!
  ready=""
  for _ in $(seq 1 1000); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 2))") 2>/dev/null; then ready=$(date +%s%N); break; fi
    sleep 0.005
  done
  [ -n "$ready" ] || { kill "$pid"; echo "run $i: did not start"; continue; }
  sleep "${IDLE_SECONDS:-5}"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "run $i: accepting after $(( (ready - start) / 1000000 )) ms; idle RSS $(( rss / 1024 )) MiB"
done
