#!/usr/bin/env bash
# The long zero-downtime suite (issue 9): Gatehouse, nginx and HAProxy, each under the same steady
# load (keep-alive HTTP/1.1 clients, WebSockets, streaming downloads) through the same scenarios
# (50 reloads, blue/green switch, drain + kill, origin kill -9, hand-off to a new process, graceful
# stop, and a stop-then-start control), every process real and on 127.0.0.1. Writes the side-by-side
# table to docs/zero-downtime.md (or $OUT). The short version runs in `mvn test` (ZeroDowntimeTest).
#
#   bench/zero-downtime.sh                          # all three, all scenarios: about 6 minutes
#   PROXIES=gatehouse SCENARIOS=RELOADS,ORIGIN_KILL bench/zero-downtime.sh
#   QUICK=1 bench/zero-downtime.sh                  # the short plan of mvn test, to try the script
#
# Needs a JDK 17+, Maven, and for the peers `apt-get install -y nginx haproxy` (a peer that is not
# installed shows as "not installed" in the table). Every load is bounded; everything started is
# stopped by its pid.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out="${OUT:-$repo/docs/zero-downtime.md}"
proxies="${PROXIES:-gatehouse,nginx,haproxy}"
scenarios="${SCENARIOS:-}"   # empty: all; else e.g. RELOADS,BLUE_GREEN_API,ORIGIN_KILL

for peer in nginx haproxy; do
  if [[ ",$proxies," == *",$peer,"* ]] && ! PATH="$PATH:/usr/sbin:/sbin" command -v "$peer" >/dev/null; then
    echo "$peer is not installed: apt-get install -y $peer (its column will say so)" >&2
  fi
done
if [ ! -x /bin/kill ] && [ ! -x /usr/bin/kill ]; then
  echo "needs the kill program: apt-get install -y procps" >&2
  exit 1
fi

# The shaded jar runs Gatehouse; the test classes hold the harness, the origins and the drivers.
(cd "$repo" && mvn -B -q -o package -DskipTests 2>/dev/null || mvn -B -q package -DskipTests)
work="$(mktemp -d "${TMPDIR:-/tmp}/zero-downtime.XXXXXX")"
commit="$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src || echo '+changes')"
echo "processes' logs and configs: $work" >&2
java ${QUICK:+-Dzd.quick=true} -cp "$repo/target/test-classes:$repo/target/gatehouse.jar" \
  io.gatehouse.zerodowntime.ZeroDowntimeBench "$out" "$work" "$commit" "$proxies" "$scenarios"
