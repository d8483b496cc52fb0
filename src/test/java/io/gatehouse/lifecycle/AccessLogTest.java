package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class AccessLogTest {
  @TempDir Path dir;

  @Test
  void writesOneJsonLinePerExchangeIncludingLocalReplies() throws Exception {
    Path file = dir.resolve("access.log");
    int notFoundBytes;
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
          admin: { bind: 127.0.0.1:0 }
          accessLog: { enabled: true, format: json, path: %s }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: api, cluster: c, match: { pathPrefix: /api/ } } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(file, origin.address()), "test.yaml", Map.of()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        assertThat(client.send("GET /api/x HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(200);
        RawResponse notFound = client.send("GET /other HTTP/1.1\r\nHost: h\r\n\r\n").readResponse();
        assertThat(notFound.status()).isEqualTo(404);
        notFoundBytes = notFound.body().length;
        assertThat(client.send("HEAD /other HTTP/1.1\r\nHost: h\r\n\r\n").readHead().status()).isEqualTo(404);
      } finally {
        proxy.close();
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 3);
      ObjectMapper json = new ObjectMapper();
      JsonNode ok = json.readTree(Files.readAllLines(file).get(0));
      assertThat(ok.get("status").asInt()).isEqualTo(200);
      assertThat(ok.get("route").asText()).isEqualTo("api");
      assertThat(ok.get("cluster").asText()).isEqualTo("c");
      assertThat(ok.get("upstream").asText()).isEqualTo(origin.address());
      assertThat(ok.get("outcome").asText()).isEqualTo("ok");
      assertThat(ok.get("path").asText()).isEqualTo("/api/x");
      JsonNode notFound = json.readTree(Files.readAllLines(file).get(1));
      assertThat(notFound.get("status").asInt()).isEqualTo(404);
      assertThat(notFound.get("outcome").asText()).isEqualTo("no_route");
      assertThat(notFound.get("bytes_out").asLong()).as("the proxy's own page is counted").isEqualTo(notFoundBytes).isPositive();
      JsonNode head = json.readTree(Files.readAllLines(file).get(2));
      assertThat(head.get("bytes_out").asLong()).as("a HEAD's answer has no body").isZero();
    }
  }

  /** A User-Agent and Referer written to close the quoted field and forge the rest of the line. */
  private static final String EVIL_AGENT = "curl\" 200 1 \"-\" \"forged\\";
  private static final String EVIL_REFERER = "http://ref/\"x\\y";
  /** nginx escaping: quote, backslash and every byte outside printable ASCII as \xHH. */
  private static final String EVIL_AGENT_ESCAPED = "curl\\x22 200 1 \\x22-\\x22 \\x22forged\\x5C";
  private static final String EVIL_REFERER_ESCAPED = "http://ref/\\x22x\\x5Cy";

  private static final String QUOTED = "\"((?:[^\"\\\\]|\\\\x[0-9A-F]{2})*)\"";
  /** Apache/nginx combined, exactly; every quoted field may only hold escapes, never a raw quote. */
  private static final Pattern COMBINED = Pattern.compile("^(\\S+) - (\\S+) \\[(\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4})\\] "
      + QUOTED + " (\\d{3}) (\\d+) " + QUOTED + " " + QUOTED + "$");

  @Test
  void combinedIsTheApacheFormatAndEscapesWhatTheClientSent() throws Exception {
    List<String> lines = logHostileRequests("combined");
    assertThat(lines).hasSize(2);
    Matcher ok = COMBINED.matcher(lines.get(0));
    assertThat(ok.matches()).as(lines.get(0)).isTrue();
    assertThat(ok.group(1)).isEqualTo("127.0.0.1");
    assertThat(ok.group(2)).isEqualTo("-");
    assertThat(ok.group(4)).isEqualTo("GET /api/a\\x22b\\x5Cc HTTP/1.1");
    assertThat(ok.group(5)).isEqualTo("200");
    assertThat(ok.group(6)).isEqualTo("1"); // body bytes sent: FakeUpstream "a"
    assertThat(ok.group(7)).isEqualTo(EVIL_REFERER_ESCAPED);
    assertThat(ok.group(8)).isEqualTo(EVIL_AGENT_ESCAPED);
    Matcher notFound = COMBINED.matcher(lines.get(1));
    assertThat(notFound.matches()).as(lines.get(1)).isTrue();
    assertThat(notFound.group(5)).isEqualTo("404");
    assertThat(notFound.group(7)).isEqualTo("-");
    assertThat(notFound.group(8)).isEqualTo("-");
  }

  @Test
  void gatehouseFormatIsCombinedPlusKeyValuesAndIsTheDefault() throws Exception {
    List<String> lines = logHostileRequests(null);
    assertThat(lines).hasSize(2);
    String line = lines.get(0);
    int extras = line.indexOf(" authority=");
    assertThat(extras).as(line).isPositive();
    Matcher head = COMBINED.matcher(line.substring(0, extras));
    assertThat(head.matches()).as(line).isTrue();
    assertThat(head.group(8)).isEqualTo(EVIL_AGENT_ESCAPED);
    Map<String, String> fields = new java.util.HashMap<>();
    for (String kv : line.substring(extras + 1).split(" ")) {
      int eq = kv.indexOf('=');
      fields.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    assertThat(fields).containsEntry("authority", "h").containsEntry("listener", "web")
        .containsEntry("route", "api").containsEntry("cluster", "c").containsEntry("outcome", "ok")
        .containsKeys("bytes_in", "upstream", "rule", "upstream_ms", "total_ms");
  }

  @Test
  void jsonLinesCarryTheFieldsVerbatimAndStayOneLine() throws Exception {
    List<String> lines = logHostileRequests("json");
    assertThat(lines).hasSize(2);
    JsonNode ok = new ObjectMapper().readTree(lines.get(0));
    assertThat(ok.get("user_agent").asText()).isEqualTo(EVIL_AGENT);
    assertThat(ok.get("referer").asText()).isEqualTo(EVIL_REFERER);
    assertThat(ok.get("path").asText()).isEqualTo("/api/a\"b\\c");
    assertThat(ok.get("authority").asText()).isEqualTo("h");
    assertThat(ok.get("protocol").asText()).isEqualTo("HTTP/1.1");
    assertThat(new ObjectMapper().readTree(lines.get(1)).get("user_agent").isNull()).isTrue();
  }

  /**
   * Two requests (one routed, one 404) with quotes and backslashes in them. Control and non-ASCII
   * bytes are refused by the decoder before a line is written; {@link AccessLogFormatTest} covers them.
   */
  private List<String> logHostileRequests(String format) throws Exception {
    Path file = dir.resolve("access-" + format + ".log");
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
          admin: { bind: 127.0.0.1:0 }
          accessLog: { enabled: true, %s path: %s }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: api, cluster: c, match: { pathPrefix: /api/ } } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(format == null ? "" : "format: " + format + ",", file, origin.address()),
          "test.yaml", Map.of()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        assertThat(client.send("GET /api/a\"b\\c HTTP/1.1\r\nHost: h\r\nUser-Agent: " + EVIL_AGENT
            + "\r\nReferer: " + EVIL_REFERER + "\r\n\r\n").readResponse().status()).isEqualTo(200);
        assertThat(client.send("GET /other HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
      } finally {
        proxy.close();
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() >= 2);
      return Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  @Test
  void reopenAfterARenameWritesNewLinesToANewFileAndSoDoesAReload() throws Exception {
    Path file = dir.resolve("access.log");
    Path rotated = dir.resolve("access.log.1");
    Path rotatedAgain = dir.resolve("access.log.2");
    String yaml = """
        admin: { bind: 127.0.0.1:0 }
        accessLog: { path: %s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        """.formatted(file);
    GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse(yaml, "test.yaml", Map.of()));
    try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
      assertThat(client.send("GET /first HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && lines(file).size() == 1);
      Files.move(file, rotated); // what logrotate does; the writer still holds the renamed file open

      proxy.reopenAccessLog(); // what SIGUSR1 calls
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file));
      assertThat(client.send("GET /second HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
      await().atMost(Duration.ofSeconds(5)).until(() -> lines(file).size() == 1);
      assertThat(lines(file).get(0)).contains("/second");
      assertThat(lines(rotated)).hasSize(1).allMatch(l -> l.contains("/first"));

      Files.move(file, rotatedAgain);
      proxy.reload(ConfigLoader.parse(yaml, "test.yaml", Map.of()));
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file));
      assertThat(client.send("GET /third HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
      await().atMost(Duration.ofSeconds(5)).until(() -> lines(file).size() == 1);
      assertThat(lines(file).get(0)).contains("/third");
      assertThat(lines(rotatedAgain)).hasSize(1).allMatch(l -> l.contains("/second"));
    } finally {
      proxy.close();
    }
  }

  private static List<String> lines(Path file) throws java.io.IOException {
    return Files.readAllLines(file);
  }
}
