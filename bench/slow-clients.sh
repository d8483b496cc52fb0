#!/usr/bin/env bash
# Slow clients against Gatehouse, nginx and HAProxy, each with its default timeouts (HAProxy has
# none, so common ones: http-request 10s, client 60s), in front of the same nginx origin. The
# attacks are slowhttptest's (Debian package `slowhttptest`, a third-party tool): slowloris
# (-H, a head that never ends), slow body (-B, R.U.D.Y.) and slow read (-X: pipelined GETs of a
# 1 MiB file read a few bytes at a time through a tiny window). For each, read on the proxy's side
# of its port once a second (ss): when the proxy had closed every attacking connection, the most
# the kernel held queued for them, and the most it still held for them once the proxy had let go
# (sockets in FIN-WAIT-1: a plain close leaves an unread response queued there, sent on at the
# reader's pace for as long as it keeps reading, here until slowhttptest itself ends). slowhttptest's own probe says whether fresh requests were
# still answered (a line is added when they were not). Loopback only; bounded.
#
#   bench/slow-clients.sh                         # C=500 connections, L=70 s per attack: ~11 min
#   C=200 L=40 PROXIES=gatehouse ATTACKS=read bench/slow-clients.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
c=${C:-500}
length=${L:-70}
base=${PORT:-25300}
proxies=${PROXIES:-gatehouse nginx haproxy}
attacks=${ATTACKS:-loris body read}
for tool in slowhttptest nginx haproxy ss; do
  command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install slowhttptest nginx haproxy iproute2)" >&2; exit 1; }
done
. "$here/lib.sh"
bench_workdir slow

origin=$base
mkdir -p "$work/www" "$work/nginx-origin" "$work/nginx-proxy"
head -c 1024 /dev/zero | tr '\0' x > "$work/www/small"
head -c $((1024 * 1024)) /dev/zero | tr '\0' y > "$work/www/big"
cat > "$work/nginx-origin/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx-origin/pid; error_log stderr error;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 300s; client_body_timeout 300s;
  server { listen 127.0.0.1:$origin; root $work/www; error_page 405 =200 /small; } }
CONF
nginx -p "$work/nginx-origin" -c "$work/nginx-origin/nginx.conf" -e stderr -g 'daemon off;' &
pids+=($!)

wait_port "$origin"

start_gatehouse() { # port
  gatehouse_reverse_yaml "$1" "$origin" > "$work/gatehouse.yaml"
  "$root/gatehouse" run -c "$work/gatehouse.yaml" >"$work/gatehouse.log" 2>&1 &
  pids+=($!)
}
start_nginx() {
  cat > "$work/nginx-proxy/nginx.conf" <<CONF
worker_processes 1; pid $work/nginx-proxy/pid; error_log stderr error; worker_rlimit_nofile 20000;
events { worker_connections 10000; }
http { access_log off;
  upstream origin { server 127.0.0.1:$origin; keepalive 64; }
  server { listen 127.0.0.1:$1; location / { proxy_pass http://origin; proxy_http_version 1.1;
    proxy_set_header Connection ""; } } }
CONF
  nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" -e stderr -g 'daemon off;' &
  pids+=($!)
}
start_haproxy() {
  cat > "$work/haproxy.cfg" <<CONF
global
    maxconn 4000
    no strict-limits
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
frontend fe
    bind 127.0.0.1:$1
    default_backend be
backend be
    http-reuse always
    server origin 127.0.0.1:$origin
CONF
  haproxy -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  pids+=($!)
}

# The proxy's side of its port, once a second: established connections and the bytes queued to
# them, and sockets in FIN-WAIT-1 (closed by the proxy with a response still queued) and theirs.
sample() { # port seconds -> "second estab estab_bytes finwait finwait_bytes" lines
  for t in $(seq 1 "$2"); do
    ss -tan "( sport = :$1 )" 2>/dev/null | awk -v t="$t" '
      $1 == "ESTAB" { e++; eq += $3 } $1 == "FIN-WAIT-1" { f++; fq += $3 }
      END { printf "%d %d %d %d %d\n", t, e, eq, f, fq }'
    sleep 1
  done
}

attack() { # name port -> one table row
  local name=$1 port=$2 args=() out="$work/$1-$port"
  case $name in
    loris) args=(-H -c "$c" -r 250 -i 10 -s 8192 -t GET -u "http://127.0.0.1:$port/small") ;;
    body) args=(-B -c "$c" -r 250 -i 10 -s 100000 -t POST -u "http://127.0.0.1:$port/small") ;;
    read) args=(-X -c "$c" -r 250 -w 512 -y 1024 -n 5 -z 32 -k 3 -u "http://127.0.0.1:$port/big") ;;
  esac
  sample "$port" "$length" > "$out.ss" &
  local sampler=$!
  timeout $((length + 60)) slowhttptest "${args[@]}" -l "$length" -p 3 -g -o "$out" > "$out.out" 2>&1 || true
  wait "$sampler" 2>/dev/null || true
  # slowhttptest's CSV (seconds, closed, pending, connected, service available 1/0) says whether its
  # probe was answered; whether the attack still holds the proxy is read on the proxy's side (the
  # tool's own count misses connections reset under it).
  local down
  down=$(awk -F, 'NR > 1 && $1 ~ /^[0-9]+$/ && $5 == 0 { n++ } END { print n + 0 }' "$out.csv")
  awk -v name="$name" -v c="$c" -v down="$down" '
    { e[$1] = $2; eq[$1] = $3; f[$1] = $4; fq[$1] = $5; last = $1
      if ($2 > peak) { peak = $2; at = $1 } if ($3 > qmax) qmax = $3
      if ($5 > fmax) { fmax = $5; fn = $4 } }
    END {
      for (t = at; t <= last; t++) if (e[t] <= 2) { gone = t; break }
      printf "| %s | %d | %s | %.0f MiB | %s |\n", name, peak,
        (gone ? "by " gone " s" : "no: " e[last] " open at " last " s"), qmax / 1048576,
        (fn ? fn " sockets, " sprintf("%.0f", fmax / 1048576) " MiB" : "none")
      if (down > 0) printf "|  | (its probe went unanswered for %d s) | | | |\n", down
    }' "$out.ss"
}

printf "slow clients: %d connections per attack, %d s each; ports from %d\n\n" "$c" "$length" "$base"
i=1
for proxy in $proxies; do
  port=$((base + i * 10)); i=$((i + 1))
  "start_$proxy" "$port"
  wait_port "$port"
  echo "### $proxy"
  echo
  echo "| attack | attacking connections (peak) | the proxy had closed them all | most queued to them in the kernel | most left in FIN-WAIT-1 after the proxy closed them (sockets, queued) |"
  echo "|---|---|---|---|---|"
  for a in $attacks; do attack "$a" "$port"; sleep 2; done
  echo
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
done
