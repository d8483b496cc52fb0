#!/usr/bin/env bash
# balancers.sh: two healthy origins and one slow one behind each Gatehouse balancer, nginx
# least_conn and HAProxy leastconn; wrk measures p50/p99 and req/s for each; prints a markdown table.
#
#   bench/balancers.sh                  # DURATION=10 WARMUP=5 REPS=3 CONNS=64 SLOW_DELAY=0.05
#   BALANCERS="round_robin ewma" DURATION=5 bench/balancers.sh
#
# Everything listens on 127.0.0.1 (PORT_BASE+1 ..+20); every process started is stopped by PID.
# Gatehouse runs with one event loop, nginx with one worker, HAProxy with one thread; with PIN=1
# (default) the proxy runs on PROXY_CPU and wrk plus the origins on CLIENT_CPU.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

DURATION=${DURATION:-10}
REPS=${REPS:-3}
WARMUP=${WARMUP:-5}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
SLOW_DELAY=${SLOW_DELAY:-0.05}      # seconds the slow origin waits before each response
PORT_BASE=${PORT_BASE:-26700}
PIN=${PIN:-1}
PROXY_CPU=${PROXY_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
BALANCERS=${BALANCERS:-"round_robin least_request p2c ewma"}
PEERS=${PEERS:-"nginx-least_conn haproxy-leastconn"}
JAR=${JAR:-$ROOT/target/gatehouse.jar}

FAST1=$((PORT_BASE + 1)); FAST2=$((PORT_BASE + 2)); SLOW=$((PORT_BASE + 3))
PROXY_PORT=$((PORT_BASE + 10))

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for tool in wrk python3 curl; do command -v "$tool" >/dev/null || die "missing $tool"; done
for port in "$FAST1" "$FAST2" "$SLOW" "$PROXY_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is in use (set PORT_BASE)"; fi
done
[[ -f "$JAR" ]] || (cd "$ROOT" && mvn -B -q package -DskipTests) || die "cannot build $JAR"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/balancerbench.XXXXXX")
chmod 755 "$TMP"
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

# Prefix that pins a command to a CPU; used directly (not via a function) so that "$!" of a
# background start is the process itself (taskset execs it) and can be stopped by PID.
on_cpu() {  # CPU -> words of the prefix, one per line
  if [[ "$PIN" == 1 ]] && command -v taskset >/dev/null; then printf '%s\n' taskset -c "$1"; fi
}
mapfile -t ON_PROXY < <(on_cpu "$PROXY_CPU")
mapfile -t ON_CLIENT < <(on_cpu "$CLIENT_CPU")

wait_port() {  # port
  for _ in $(seq 1 200); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/small" && return 0
    sleep 0.1
  done
  return 1
}

# ---- origins: nginx serving two fast ports, python serving the slow one ----
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
  server { listen 127.0.0.1:$FAST1; root $TMP/www; add_header X-Upstream fast1; }
  server { listen 127.0.0.1:$FAST2; root $TMP/www; add_header X-Upstream fast2; }
}
CONF
"${ON_CLIENT[@]}" nginx -c "$TMP/origin.conf" -p "$TMP/run" 2>"$TMP/run/origin.out" &
PIDS+=($!)
"${ON_CLIENT[@]}" python3 "$HERE/slow_origin.py" "$SLOW" "$SLOW_DELAY" slow &
PIDS+=($!)
wait_port "$FAST1" && wait_port "$FAST2" && wait_port "$SLOW" || die "origins did not start"

RESULTS=$TMP/results.tsv
: > "$RESULTS"

measure() {  # name
  local name=$1 out slow_before
  "${ON_CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$PROXY_PORT/small" >/dev/null
  slow_before=$(curl -s --max-time 2 "http://127.0.0.1:$SLOW/count")
  out=$("${ON_CLIENT[@]}" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY_PORT/small")
  echo "$out" > "$TMP/wrk-$name.txt"
  local p50 p99 rps errors total slow_after share
  slow_after=$(curl -s --max-time 2 "http://127.0.0.1:$SLOW/count")
  total=$(awk '/requests in/{print $1}' <<<"$out")
  share=$(awk -v a="$slow_after" -v b="$slow_before" -v t="$total" 'BEGIN{ if (t > 0) printf "%.1f%%", 100 * (a - b) / t; else print "?" }')
  p50=$(awk '$1=="50%"{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  rps=$(awk '/^Requests\/sec/{print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/{print}' <<<"$out" | tr '\n' ' ')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$p50" "$p99" "$rps" "$share" "${errors:-}" >> "$RESULTS"
  log "$name: p50 $p50 p99 $p99 $rps req/s, slow origin share $share ${errors:-}"
}

stop_last() { local p=${PIDS[-1]}; kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; unset 'PIDS[-1]'; }

start_gatehouse() {  # balancer
  local b=$1
  cat > "$TMP/gatehouse-$b.yaml" <<CONF
listeners:
  - { name: web, bind: "127.0.0.1:$PROXY_PORT", mode: reverse }
accessLog: { enabled: false }
routes: [ { name: all, cluster: origins } ]
clusters:
  - name: origins
    balancer: $b
    endpoints: [ "127.0.0.1:$FAST1", "127.0.0.1:$FAST2", "127.0.0.1:$SLOW" ]
    pool: { maxConnections: 1024 }
CONF
  "${ON_PROXY[@]}" java -Dgatehouse.threads=1 -Xms256m -Xmx512m -jar "$JAR" run -c "$TMP/gatehouse-$b.yaml" \
    >>"$TMP/run/gatehouse-$b.out" 2>&1 &
  PIDS+=($!)
}

start_nginx() {  # method directive ("" = round robin)
  cat > "$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/run/nginx.pid;
error_log $TMP/run/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $TMP/run/nb; proxy_temp_path $TMP/run/np; fastcgi_temp_path $TMP/run/nf;
  uwsgi_temp_path $TMP/run/nu; scgi_temp_path $TMP/run/ns;
  upstream origins {
    $1
    server 127.0.0.1:$FAST1; server 127.0.0.1:$FAST2; server 127.0.0.1:$SLOW;
    keepalive 1024;
  }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  server { listen 127.0.0.1:$PROXY_PORT backlog=4096; location / { proxy_pass http://origins; } }
}
CONF
  "${ON_PROXY[@]}" nginx -c "$TMP/nginx.conf" -p "$TMP/run" 2>>"$TMP/run/nginx.out" &
  PIDS+=($!)
}

start_haproxy() {  # balance algorithm
  cat > "$TMP/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 5000
  no strict-limits
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$PROXY_PORT
  default_backend origins
backend origins
  balance $1
  http-reuse always
  server fast1 127.0.0.1:$FAST1
  server fast2 127.0.0.1:$FAST2
  server slow 127.0.0.1:$SLOW
CONF
  "${ON_PROXY[@]}" haproxy -db -f "$TMP/haproxy.cfg" >>"$TMP/run/haproxy.out" 2>&1 &
  PIDS+=($!)
}

TARGETS=()
for b in $BALANCERS; do TARGETS+=("gatehouse $b"); done
for peer in $PEERS; do
  case $peer in
    nginx-*) command -v nginx >/dev/null && TARGETS+=("$peer") || log "nginx missing: $peer skipped" ;;
    haproxy-*) command -v haproxy >/dev/null && TARGETS+=("$peer") || log "haproxy missing: $peer skipped" ;;
    *) die "unknown peer $peer (expected nginx-least_conn, nginx-round_robin, haproxy-leastconn, haproxy-roundrobin)" ;;
  esac
done

# Repetitions interleave the targets, so every target sees the same drift of a shared machine.
for rep in $(seq 1 "$REPS"); do
  for target in "${TARGETS[@]}"; do
    case $target in
      "gatehouse "*) start_gatehouse "${target#gatehouse }" ;;
      nginx-least_conn) start_nginx "least_conn;" ;;
      nginx-round_robin) start_nginx "" ;;
      haproxy-*) start_haproxy "${target#haproxy-}" ;;
    esac
    wait_port "$PROXY_PORT" || die "$target did not start (logs in $TMP/run)"
    measure "$target"
    stop_last
  done
done

echo
echo "Two origins answering at once and one after ${SLOW_DELAY}s; wrk -t$THREADS -c$CONNS, ${DURATION}s after" \
  "${WARMUP}s warm-up, 1 KiB responses; median of $REPS runs (min..max in brackets); load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo
python3 - "$RESULTS" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, p50, p99, rps, share, errors = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
    rows.setdefault(name, []).append((p50, p99, rps, share, errors))

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text or "")
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

def cell(values, fmt):
    values = [v for v in values if v == v]
    if not values:
        return "?"
    return (fmt % statistics.median(values)) + (" [" + fmt % min(values) + ".." + fmt % max(values) + "]" if len(values) > 1 else "")

print("| proxy / balancer | p50 ms | p99 ms | req/s | share sent to the slow origin | errors |")
print("|---|---|---|---|---|---|")
for name, runs in rows.items():
    p50 = cell([ms(r[0]) for r in runs], "%.2f")
    p99 = cell([ms(r[1]) for r in runs], "%.1f")
    rps = cell([float(r[2] or "nan") for r in runs], "%.0f")
    share = cell([float(r[3].rstrip("%")) if r[3] not in ("", "?") else float("nan") for r in runs], "%.1f%%")
    errors = "; ".join(sorted({r[4].strip() for r in runs if r[4].strip()}))
    print(f"| {name} | {p50} | {p99} | {rps} | {share} | {errors} |")
PY
