# Shared by the bench scripts that start their own processes (source it): a work directory and
# the processes started in it, both gone at exit, and a wait for a port to accept.

# Makes $work (a fresh directory named after $1) and $pids (append each started process's pid);
# at exit the processes are killed and the directory removed. Raises the open-files limit.
bench_workdir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-$1.XXXXXX")
  chmod 755 "$work" # nginx workers (user nobody when run as root) read the files served from it
  pids=()
  trap bench_cleanup EXIT
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

wait_port() { # port: until it accepts, at most 30 s
  for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 did not open" >&2
  return 1
}

# Gatehouse as a plain reverse proxy: a listener on 127.0.0.1:$1 in front of 127.0.0.1:$2, the
# access log off, the admin API on port $1 + 50. Prints the config.
gatehouse_reverse_yaml() {
  cat <<YAML
admin: { bind: 127.0.0.1:$(($1 + 50)) }
accessLog: { enabled: false }
listeners: [ { name: web, bind: 127.0.0.1:$1, mode: reverse } ]
routes: [ { name: all, cluster: origin } ]
clusters: [ { name: origin, endpoints: [ "127.0.0.1:$2" ] } ]
YAML
}
