#!/usr/bin/env bash
# Long fuzzing (issue 11): the own HTTP/1 head parser differentially against Netty's decoder, and
# the HTTP/2 server pipeline with structured frame sequences (Http2FrameSequenceFuzzTest).
# Usage: bench/fuzz.sh, or FUZZ_MINUTES=60 bench/fuzz.sh (whole minutes) for rounds over the targets until that
# many minutes have passed (a round cannot run longer than 2 min, see below; a target that found
# something sits out the later rounds, as its finding would stop every new round at once: triage it,
# keep it as a seed, run again). Niced, one target at a time; each fuzzes for its @FuzzTest maxDuration
# (2 min): Jazzer 0.24 appends that as libFuzzer's -max_total_time after any other (the last one
# wins; jazzer.internal.arg.0 is taken as argv[0]), so a duration given here had no effect. Every
# target runs even when an earlier one found something; the script exits non-zero if any did.
# Findings land in src/test/resources/io/gatehouse/<package>/<Class>Inputs/<test>/ and then run in
# `mvn test`. Jazzer instruments the project's classes by default; Netty's HTTP codecs are added so
# that coverage of the reference decoder (and of the h2 codec under the pipeline) guides the search.
# A fuzz run is one test invocation: the suite's default 60 s timeout would cut it (and report the
# input running then as a finding), so it is lifted to 10 min here.
set -uo pipefail
cd "$(dirname "$0")/.."
instrument="io.gatehouse.**,io.netty.handler.codec.http.**,io.netty.handler.codec.http2.**"
failed=()
fuzz() { # fuzz CLASS#METHOD
  JAZZER_FUZZ=1 nice -n 19 mvn -B -o test -Dtest="$1" -Djazzer.instrument="$instrument" \
    -Djunit.jupiter.execution.timeout.default="600 s" \
    -Dsurefire.failIfNoSpecifiedTests=false || failed+=("$1")
}
targets=("HeadParserFuzzTest#requests_agree_with_netty" "HeadParserFuzzTest#responses_agree_with_netty"
  "Http2FrameSequenceFuzzTest#frame_sequences_keep_the_invariants")
deadline=$(( $(date +%s) + ${FUZZ_MINUTES:-0} * 60 ))
rounds=0
while true; do
  ran=0
  for target in "${targets[@]}"; do
    [[ " ${failed[*]-} " == *" $target "* ]] && continue
    fuzz "$target"
    ran=1
  done
  rounds=$((rounds + 1))
  (( ran == 0 || $(date +%s) >= deadline )) && break
done
echo "fuzz: $rounds round(s)"
if (( ${#failed[@]} > 0 )); then
  echo "fuzz: findings (or failures) in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no finding in any target"
