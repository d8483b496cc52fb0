package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.http.Reason;
import io.gatehouse.relay.ExchangeRecord;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Bytes the HTTP/1 decoder refuses (CR, LF, other controls, non-ASCII) can still reach a record by
 * other ways (HTTP/2 field values, a proxy user name from Basic credentials): each format keeps
 * the exchange on one line.
 */
class AccessLogFormatTest {
  private static final Instant TIME = Instant.parse("2026-03-04T05:06:07Z");
  private static final String USER = "bob\r\n127.0.0.1 - - [x] \"GET / HTTP/1.1\" 200 0 \"-\" \"-\"";
  private static final String AGENT = "caf\u00e9\u0001\u007f\u20ac";

  private static ExchangeRecord record() {
    return new ExchangeRecord("web", "127.0.0.1", USER, "GET", "h", "/\n", "HTTP/1.1", null, AGENT,
        200, 1, 2, null, null, "-", null, 0, 0, Reason.OK);
  }

  @Test
  void combinedEscapesControlAndNonAsciiBytesAsNginxDoes() {
    String line = AccessLogFormat.of(AccessLogConfig.Format.COMBINED, ZoneOffset.ofHours(1)).line(record(), TIME);
    assertThat(line).isEqualTo("127.0.0.1 - bob\\x0D\\x0A127.0.0.1 - - [x] \\x22GET / HTTP/1.1\\x22 200 0 \\x22-\\x22 \\x22-\\x22"
        + " [04/Mar/2026:06:06:07 +0100] \"GET /\\x0A HTTP/1.1\" 200 2 \"-\" \"caf\\xE9\\x01\\x7F\\xE2\\x82\\xAC\"");
  }

  @Test
  void jsonIsOneAsciiLineThatReadsBackVerbatim() throws Exception {
    String line = AccessLogFormat.of(AccessLogConfig.Format.JSON, ZoneOffset.UTC).line(record(), TIME);
    assertThat(line).doesNotContain("\n").doesNotContain("\r").matches("\\p{ASCII}*");
    JsonNode node = new ObjectMapper().readTree(line);
    assertThat(node.get("user").asText()).isEqualTo(USER);
    assertThat(node.get("user_agent").asText()).isEqualTo(AGENT);
    assertThat(node.get("path").asText()).isEqualTo("/\n");
    assertThat(node.get("referer").isNull()).isTrue();
    assertThat(node.get("time").asText()).isEqualTo("2026-03-04T05:06:07Z");
  }
}
