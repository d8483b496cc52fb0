#!/usr/bin/env bash
# Long fuzzing (issue 11): the own HTTP/1 head parser differentially against Netty's decoder, and
# the HTTP/2 server pipeline with structured frame sequences (Http2FrameSequenceFuzzTest).
# Usage: bench/fuzz.sh [SECONDS per fuzz test, default 300]. Bounded: every fuzz test stops
# after SECONDS (Jazzer's -max_total_time). Findings land in
# src/test/resources/io/gatehouse/<package>/<Class>Inputs/<test>/ and then run in `mvn test`.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
for test in requests_agree_with_netty responses_agree_with_netty; do
  JAZZER_FUZZ=1 mvn -B -o test -Dtest="HeadParserFuzzTest#${test}" \
    -Djazzer.max_duration="${secs}s" -Djazzer.internal.arg.0="-max_total_time=${secs}" \
    -Dsurefire.failIfNoSpecifiedTests=false
done
JAZZER_FUZZ=1 mvn -B -o test -Dtest="Http2FrameSequenceFuzzTest#frame_sequences_keep_the_invariants" \
  -Djazzer.max_duration="${secs}s" -Djazzer.internal.arg.0="-max_total_time=${secs}" \
  -Dsurefire.failIfNoSpecifiedTests=false
