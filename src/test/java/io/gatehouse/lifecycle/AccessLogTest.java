package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class AccessLogTest {
  @TempDir Path dir;

  @Test
  void writesOneJsonLinePerExchangeIncludingLocalReplies() throws Exception {
    Path file = dir.resolve("access.log");
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
        assertThat(client.send("GET /other HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
      } finally {
        proxy.close();
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 2);
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
    }
  }
}
