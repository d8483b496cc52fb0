#!/usr/bin/env bash
# fleet-limit.sh: the request-path cost of a fleet rate limit vs a local one (issue 12). One
# Gatehouse (one event loop) with three routes, each limited far above what wrk can send, so
# nothing is ever refused and only the cost of deciding shows:
#   local        rateLimit scope: local (the in-process GCRA bucket)
#   fleet        scope: fleet, one key (the route): leases are large, Redis is asked rarely
#   fleet-keys   scope: fleet, key header:X-Key over KEYS distinct keys (wrk script), 200/s each:
#                leases of up to 10 permits (about 1/2 s of each key's observed rate), so a Redis
#                lease request per few requests
# plus `none` (the same route without a limit). Targets interleave per repetition; prints a table
# with each target's req/s, p99, Gatehouse CPU time per request (utime+stime of its process from
# /proc/PID/stat over the measured run, divided by the requests wrk completed) and the ratios to
# `local`. CPU per request is the figure to compare: it does not depend on how busy the machine is.
#
#   bench/fleet-limit.sh                       # DURATION=5 WARMUP=2 REPS=3 CONNS=64 KEYS=1000
#   REPS=1 DURATION=3 bench/fleet-limit.sh
#   TARGETS="fleet local" bench/fleet-limit.sh  # a subset, or another order
#
# Everything listens on 127.0.0.1 (PORT_BASE+1..+3); every process started is stopped by PID.
# With PIN=1 (default) Gatehouse runs on PROXY_CPU; wrk, the origin and Redis on CLIENT_CPU.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

DURATION=${DURATION:-5}
REPS=${REPS:-3}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
KEYS=${KEYS:-1000}
PORT_BASE=${PORT_BASE:-26800}
PIN=${PIN:-1}
PROXY_CPU=${PROXY_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
JAR=${JAR:-$ROOT/target/gatehouse.jar}
ORIGIN=$((PORT_BASE + 1)); REDIS=$((PORT_BASE + 2)); PROXY=$((PORT_BASE + 3))

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for tool in wrk nginx redis-server redis-cli curl java; do command -v "$tool" >/dev/null || die "missing $tool"; done
for port in "$ORIGIN" "$REDIS" "$PROXY"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (set PORT_BASE)"; fi
done
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -B -q package -DskipTests) || die "cannot build $JAR"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fleetlimit.XXXXXX")
chmod 755 "$TMP"  # nginx workers (nobody, when run as root) read www/
mkdir -p "$TMP/www" "$TMP/run"; chmod 1777 "$TMP/run"
head -c 1024 /dev/zero | tr '\0' x > "$TMP/www/small"
chmod 644 "$TMP/www/small"
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [[ "${KEEP_TMP:-0}" == 1 ]] || rm -rf "$TMP"
}
trap cleanup EXIT
on_cpu() { if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null; then printf '%s\n' taskset -c "$1"; fi; }
mapfile -t ON_PROXY < <(on_cpu "$PROXY_CPU")
mapfile -t ON_CLIENT < <(on_cpu "$CLIENT_CPU")
wait_http() {  # url
  for _ in $(seq 1 300); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; return 1
}

cat > "$TMP/origin.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/run/origin.pid;
error_log $TMP/run/origin-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $TMP/run/ob; proxy_temp_path $TMP/run/op; fastcgi_temp_path $TMP/run/of;
  uwsgi_temp_path $TMP/run/ou; scgi_temp_path $TMP/run/os;
  server { listen 127.0.0.1:$ORIGIN; root $TMP/www; }
}
CONF
"${ON_CLIENT[@]}" nginx -c "$TMP/origin.conf" -p "$TMP/run" 2>"$TMP/run/origin.out" &
PIDS+=($!)
"${ON_CLIENT[@]}" redis-server --port "$REDIS" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP/run" \
  >"$TMP/run/redis.out" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$ORIGIN/small" || die "origin did not start"
for _ in $(seq 1 100); do redis-cli -p "$REDIS" ping >/dev/null 2>&1 && break; sleep 0.1; done

cat > "$TMP/gatehouse.yaml" <<CONF
listeners: [ { name: web, bind: "127.0.0.1:$PROXY", mode: reverse } ]
accessLog: { enabled: false }
limits: { maxConnections: 200000, idleTimeout: 300s }
routes:
  - { name: none, match: { host: none.bench }, cluster: origin }
  - name: local
    match: { host: local.bench }
    cluster: origin
    rateLimit: { key: route, perSecond: 10000000, scope: local }
  - name: fleet
    match: { host: fleet.bench }
    cluster: origin
    rateLimit: { key: route, perSecond: 10000000, scope: fleet }
  - name: fleet-keys
    match: { host: fleet-keys.bench }
    cluster: origin
    rateLimit: { key: "header:X-Key", perSecond: 200, scope: fleet }
clusters: [ { name: origin, endpoints: [ "127.0.0.1:$ORIGIN" ], pool: { maxConnections: 1024 } } ]
fleet: { redis: "redis://127.0.0.1:$REDIS", instance: bench }
CONF
"${ON_PROXY[@]}" java -Dgatehouse.threads=1 -XX:+UseParallelGC -Xms256m -Xmx512m -jar "$JAR" run -c "$TMP/gatehouse.yaml" \
  >"$TMP/run/gatehouse.out" 2>&1 &
GATEHOUSE=$!
PIDS+=("$GATEHOUSE")
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$GATEHOUSE/stat"; }  # utime + stime, clock ticks
wait_http "http://127.0.0.1:$PROXY/small" || die "gatehouse did not start (see $TMP/run/gatehouse.out)"

# wrk script: Host per target; for fleet-keys a different X-Key per request, over KEYS keys.
cat > "$TMP/target.lua" <<LUA
local host = os.getenv("TARGET_HOST")
local keyed = host == "fleet-keys.bench"
local n = 0
request = function()
  n = n + 1
  local headers = { Host = host }
  if keyed then headers["X-Key"] = "k" .. (n % $KEYS) end
  return wrk.format("GET", "/small", headers)
end
LUA

for t in none local fleet fleet-keys; do
  code=$(curl -s -o "$TMP/run/check.out" -w '%{http_code}' -H "Host: $t.bench" -H "X-Key: k1" "http://127.0.0.1:$PROXY/small")
  [[ "$code" == 200 ]] || die "$t.bench answered $code: $(head -c 300 "$TMP/run/check.out")"
done

RESULTS=$TMP/results.tsv
: > "$RESULTS"
measure() {  # target
  local out
  TARGET_HOST="$1.bench" "${ON_CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -s "$TMP/target.lua" \
    "http://127.0.0.1:$PROXY" >/dev/null
  local before after
  before=$(cpu_ticks)
  out=$(TARGET_HOST="$1.bench" "${ON_CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$TMP/target.lua" "http://127.0.0.1:$PROXY")
  after=$(cpu_ticks)
  local rps p99 errors requests cpu
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  requests=$(awk '/requests in/{print $1}' <<<"$out")
  cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN{printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0)}')
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out" | tr '\n' ' ')
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$rps" "$p99" "${errors:-}" "$cpu" >> "$RESULTS"
  log "$1: $rps req/s, p99 $p99, $cpu us CPU/request ${errors:-}"
}

read -r -a TARGETS <<<"${TARGETS:-none local fleet fleet-keys}"
for rep in $(seq 1 "$REPS"); do
  for t in "${TARGETS[@]}"; do measure "$t"; done
done
LEASES=$(redis-cli -p "$REDIS" info commandstats | awk -F'[:=,]' '/^cmdstat_eval:/{print $3}')

echo
echo "Fleet rate limit vs local, one Gatehouse event loop, wrk -t$THREADS -c$CONNS ${DURATION}s x $REPS (median); $KEYS keys for fleet-keys"
echo
echo "| target | req/s | p99 | CPU µs/request | req/s vs local | CPU/request vs local |"
echo "|---|---|---|---|---|---|"
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
LOCAL=$(awk -F'\t' '$1=="local"{print $2}' "$RESULTS" | median)
LOCAL_CPU=$(awk -F'\t' '$1=="local"{print $5}' "$RESULTS" | median)
for t in "${TARGETS[@]}"; do
  rps=$(awk -F'\t' -v t="$t" '$1==t{print $2}' "$RESULTS" | median)
  p99=$(awk -F'\t' -v t="$t" '$1==t{print $3}' "$RESULTS" | sort -V | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  errs=$(awk -F'\t' -v t="$t" '$1==t && $4!=""{print $4}' "$RESULTS" | head -1)
  cpu=$(awk -F'\t' -v t="$t" '$1==t{print $5}' "$RESULTS" | median)
  printf '| %s | %.0f | %s | %.2f | %.2fx | %.2fx%s |\n' "$t" "$rps" "$p99" "$cpu" \
    "$(awk -v a="$rps" -v b="${LOCAL:-0}" 'BEGIN{print (b > 0 ? a/b : 0)}')" \
    "$(awk -v a="$cpu" -v b="${LOCAL_CPU:-0}" 'BEGIN{print (b > 0 ? a/b : 0)}')" "${errs:+⚠ $errs}"
done
echo
echo "Lease requests (EVAL) Redis served in the run: ${LEASES:-?}"
