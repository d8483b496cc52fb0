#!/usr/bin/env bash
# Slow clients against Gatehouse, nginx and HAProxy, each with its default timeouts (HAProxy has
# none, so common ones: http-request 10s, client 60s), in front of the same nginx origin. The
# attacks are slowhttptest's (Debian package `slowhttptest`, a third-party tool): slowloris
# (-H, a head that never ends), slow body (-B, R.U.D.Y.) and slow read (-X: pipelined GETs of a
# 1 MiB file read a few bytes at a time through a tiny window). For each: when the proxy had
# closed every attacking connection, whether a fresh request was still answered throughout, and,
# for slow read, the bytes the kernel still held for the attackers after the proxy let go of them
# (sockets in FIN-WAIT-1 on the proxy's port: a plain close leaves the unread response queued
# there, at the reader's pace, for as long as it keeps reading). Loopback only; bounded.
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
work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-slow.XXXXXX")
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

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

wait_port() { # port: until it accepts, at most 30 s
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 did not open" >&2; return 1
}
wait_port "$origin"

start_gatehouse() { # port
  cat > "$work/gatehouse.yaml" <<YAML
admin: { bind: 127.0.0.1:$(($1 + 50)) }
accessLog: { enabled: false }
listeners: [ { name: web, bind: 127.0.0.1:$1, mode: reverse } ]
routes: [ { name: all, cluster: origin } ]
clusters: [ { name: origin, endpoints: [ "127.0.0.1:$origin" ] } ]
YAML
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
    maxconn 10000
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

# Bytes the kernel holds for the attackers on the proxy's port once the proxy closed them: sockets
# in FIN-WAIT-1 (closed by the proxy, response still queued), their number and summed Send-Q.
orphans() { # port
  ss -tn state fin-wait-1 "( sport = :$1 )" 2>/dev/null \
    | awk 'NR > 1 { n++; q += $2 } END { printf "%d sockets, %.1f MiB", n, q / 1048576 }'
}

attack() { # name port -> one table row
  local name=$1 port=$2 args=() csv="$work/$1-$port"
  case $name in
    loris) args=(-H -c "$c" -r 250 -i 10 -s 8192 -t GET -u "http://127.0.0.1:$port/small") ;;
    body) args=(-B -c "$c" -r 250 -i 10 -s 100000 -t POST -u "http://127.0.0.1:$port/small") ;;
    read) args=(-X -c "$c" -r 250 -w 512 -y 1024 -n 5 -z 32 -k 3 -u "http://127.0.0.1:$port/big") ;;
  esac
  local seen="-"
  ( sleep $((length - 3)); orphans "$port" > "$work/orphans" ) &
  timeout $((length + 60)) slowhttptest "${args[@]}" -l "$length" -p 3 -g -o "$csv" > "$csv.out" 2>&1 || true
  wait $! 2>/dev/null || true
  [ "$name" = read ] && seen=$(cat "$work/orphans" 2>/dev/null || echo "-")
  # slowhttptest's CSV: seconds, closed, pending, connected, service available (1 or 0)
  awk -F, -v seen="$seen" -v name="$name" -v len="$length" '
    NR > 1 && $1 ~ /^[0-9]+$/ {
      if ($4 > peak) peak = $4
      if (peak > 0 && $4 == 0 && gone == "") gone = $1 " s"
      if ($5 == 0) down++
      last = $1
    }
    END {
      printf "| %s | %d | %s | %s | %s |\n", name, peak, (gone == "" ? "still " peak - 0 " open at " last " s" : gone),
        (down ? "no, " down " s of " last : "yes"), seen
    }' "$csv.csv"
}

printf "slow clients: %d connections per attack, %d s each; ports from %d\n\n" "$c" "$length" "$base"
i=1
for proxy in $proxies; do
  port=$((base + i * 10)); i=$((i + 1))
  "start_$proxy" "$port"
  wait_port "$port"
  echo "### $proxy"
  echo
  echo "| attack | connections | all closed by the proxy after | fresh requests answered throughout | kernel still holding (slow read) |"
  echo "|---|---|---|---|---|"
  for a in $attacks; do attack "$a" "$port"; sleep 2; done
  echo
  kill "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
done
