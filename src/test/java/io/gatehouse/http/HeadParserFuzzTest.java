package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.gatehouse.http.HeadDifferential.Outcome;

/**
 * Differential fuzzing of Gatehouse's own HTTP/1 head parser and chunked framer against Netty's
 * decoder as Gatehouse configures it ({@link HeadDifferential}). Under {@code mvn test} each fuzz
 * test runs its seed corpus ({@code src/test/resources/io/gatehouse/http/HeadParserFuzzTestInputs/})
 * as a regression test; {@code bench/fuzz.sh} fuzzes for a bounded time ({@code JAZZER_FUZZ=1}).
 */
class HeadParserFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void requests_agree_with_netty(byte[] data) {
    compare(data, true);
  }

  @FuzzTest(maxDuration = "5m")
  void responses_agree_with_netty(byte[] data) {
    compare(data, false);
  }

  private static void compare(byte[] data, boolean requests) {
    if (data.length > 4096) {
      return;
    }
    Outcome own = HeadDifferential.gatehouse(data, requests);
    if (!requests) {
      Outcome codec = HeadDifferential.upstreamCodec(data);
      Outcome expected = own.end() == HeadDifferential.End.FAILED && own.reason() != null && own.reason().startsWith("body: ")
          && codec.end() == HeadDifferential.End.IN_BODY && codec.messages().equals(own.messages())
          ? codec // a chunked body refused midway: the codec closes the connection
          : own.withoutReason();
      assertThat(codec).as("UpstreamCodec vs own parser on %s", HeadDifferential.printable(data)).isEqualTo(expected);
    } else {
      assertThat(HeadDifferential.serverCodec(data)).as("ServerCodec vs own parser on %s", HeadDifferential.printable(data))
          .isEqualTo(own.withoutReason());
    }
    Outcome netty = HeadDifferential.netty(data, requests);
    if (KnownDifferences.explained(data, requests, own, netty)) {
      return;
    }
    assertThat(own.withoutReason()).as("own parser vs Netty on %s", HeadDifferential.printable(data)).isEqualTo(netty.withoutReason());
  }
}
