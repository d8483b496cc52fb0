#!/usr/bin/env bash
# Measures Gatehouse's start-up time (process start until the listener accepts) and its idle RSS,
# with the embedded default config. Prints one line per run; bounded to a few seconds each.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/../target/gatehouse.jar"
[ -f "$jar" ] || (cd "$here/.." && mvn -B -q package -DskipTests)
runs=${RUNS:-5}
for i in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  java ${GATEHOUSE_JAVA_OPTS:-} -jar "$jar" run >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 500); do
    if (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null; then break; fi
    sleep 0.01
  done
  ready=$(date +%s%N)
  sleep 5
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "run $i: listening after $(( (ready - start) / 1000000 )) ms, idle RSS $(( rss / 1024 )) MiB"
done
