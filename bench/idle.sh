#!/usr/bin/env bash
# Footprint at N idle keep-alive connections (issue 11, target g): starts an origin (nginx, 1 KiB),
# then each proxy in turn in front of it (Gatehouse through its launcher with the launcher's
# defaults, nginx with one worker, HAProxy with one thread), opens N client connections that each
# make one request and then stay open, and reads the proxy's RSS before and with them. For
# Gatehouse also the JVM's own account (NMT: heap, threads, classes, code, GC, other = direct
# buffers). Loopback only; every step is bounded. One line per proxy.
#
#   bench/idle.sh                      # N=10000, about a minute
#   N=2000 PROXIES=gatehouse bench/idle.sh
#   GATEHOUSE_JAVA_OPTS="-Xmx256m" bench/idle.sh   # other JVM flags than the launcher's
#   GATEHOUSE_JAR=/tmp/old.jar bench/idle.sh       # another build (the launcher never rebuilds it)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
n=${N:-10000}
base=${PORT:-25100}
proxies=${PROXIES:-gatehouse nginx haproxy}
settle=${SETTLE:-5}
nmt=${NMT:-1}
. "$here/lib.sh"
bench_workdir idle
[ "$(ulimit -n)" -gt $((n * 2 + 100)) ] || [ "$(ulimit -n)" -gt $((n + 500)) ] \
  || { echo "ulimit -n $(ulimit -n) is too small for N=$n" >&2; exit 1; }

origin=$base
mkdir -p "$work/nginx-origin" "$work/nginx-proxy"
head -c 1024 /dev/zero | tr '\0' x > "$work/1k"
cat > "$work/nginx-origin/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx-origin/pid; error_log stderr error;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:$origin; location / { root $work; try_files /1k =404; } } }
CONF
nginx -p "$work/nginx-origin" -c "$work/nginx-origin/nginx.conf" -e stderr -g 'daemon off;' &
pids+=($!)

rss_mib() { # pid [field]: the process and its children (nginx's workers), VmRSS or another field
  local kib=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    kib=$((kib + $(awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$p/status")))
  done
  echo $((kib / 1024))
}
wait_port "$origin"

start_gatehouse() { # port -> pid
  gatehouse_reverse_yaml "$1" "$origin" > "$work/gatehouse.yaml"
  local extra=""
  [ "$nmt" = 1 ] && extra="-XX:NativeMemoryTracking=summary"
  JAVA_TOOL_OPTIONS="$extra" "$root/gatehouse" run -c "$work/gatehouse.yaml" >"$work/gatehouse.log" 2>&1 &
  echo $!
}
start_nginx() {
  cat > "$work/nginx-proxy/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx-proxy/pid; error_log stderr error; worker_rlimit_nofile 30000;
events { worker_connections 25000; }
http { access_log off; keepalive_timeout 300s; keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:$origin; keepalive 256; }
  server { listen 127.0.0.1:$1; location / { proxy_pass http://origin; proxy_http_version 1.1;
    proxy_set_header Connection ""; } } }
CONF
  nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" -e stderr -g 'daemon off;' >"$work/nginx.log" 2>&1 &
  echo $!
}
start_haproxy() {
  cat > "$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 9990
  fd-hard-limit 20000
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend web
  bind 127.0.0.1:$1
  default_backend origin
backend origin
  http-reuse always
  server o1 127.0.0.1:$origin
CONF
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  echo $!
}

port=$((base + 1))
for proxy in $proxies; do
  pid=$("start_$proxy" "$port")
  pids+=("$pid")
  wait_port "$port"
  sleep 1
  if [ "$proxy" = gatehouse ]; then # one request so the data path's classes are loaded
    curl -s -o /dev/null "http://127.0.0.1:$port/" || true
    sleep 2
  fi
  before=$(rss_mib "$pid")
  mkfifo "$work/hold.$proxy"
  python3 "$here/idle_clients.py" 127.0.0.1 "$port" "$n" 64 120 <"$work/hold.$proxy" >"$work/clients.$proxy" &
  cpid=$!
  exec 4>"$work/hold.$proxy"
  for _ in $(seq 1 1200); do grep -q '^ready' "$work/clients.$proxy" && break; sleep 0.1; done
  sleep "$settle"
  read -r _ open failed < <(grep '^ready' "$work/clients.$proxy" || echo "ready 0 $n")
  rss=$(rss_mib "$pid")
  anon=$(rss_mib "$pid" RssAnon)
  upstream=$(ss -Htn state established "( dport = :$origin )" | wc -l)
  detail=""
  if [ "$proxy" = gatehouse ] && [ "$nmt" = 1 ]; then
    jcmd "$pid" VM.native_memory summary scale=MB >"$work/nmt" 2>/dev/null || true
    [ -z "${KEEP_NMT:-}" ] || cp "$work/nmt" "$KEEP_NMT"
    # The live set per idle connection (a full GC first): HISTO=FILE keeps the top of the histogram.
    [ -z "${HISTO:-}" ] || jcmd "$pid" GC.class_histogram 2>/dev/null | head -45 >"$HISTO" || true
    detail=$(awk '
      /^Total:/ { match($0, /committed=[0-9]+/); t = substr($0, RSTART + 10, RLENGTH - 10) }
      /^-/ { name = $2; for (i = 3; i <= NF && $i !~ /\(/; i++) name = name "_" $i
             if (match($0, /committed=[0-9]+/)) c[name] = substr($0, RSTART + 10, RLENGTH - 10) }
      END { printf "; NMT committed MiB: total %s, heap %s, threads %s, classes %s, code %s, gc %s, other(direct) %s, internal %s, symbol %s",
            t, c["Java_Heap"], c["Thread"], c["Class"], c["Code"], c["GC"], c["Other"], c["Internal"], c["Symbol"] }' "$work/nmt")
  fi
  exec 4>&-
  if [ "$failed" != 0 ] && [ -f "$work/$proxy.log" ]; then tail -5 "$work/$proxy.log" >&2; fi
  wait "$cpid" || true
  echo "$proxy: $open idle connections ($failed failed), $upstream to the origin; RSS ${before} MiB before, ${rss} MiB with them (anonymous ${anon} MiB)$detail"
  kill "$pid" 2>/dev/null || true
  # Not this shell's child (started in a command substitution): `wait` returns at once. Until it is
  # gone, a JVM still stopping may hold the port, and the next run's wait_port would find it.
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  port=$((port + 1))
done
