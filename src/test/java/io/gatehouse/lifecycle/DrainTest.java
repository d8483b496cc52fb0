package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A graceful stop as the operator and the load balancer in front see it. */
@Timeout(30)
class DrainTest {
  @TempDir Path dir;

  @Test
  void readyTurns503WhenTheDrainStartsAndWhatTheDeadlineCutsIsLoggedAsDrainDeadline() throws Exception {
    Path log = dir.resolve("access.log");
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      origin.respond(head -> Reply.hang());
      GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
          accessLog: { format: json, path: %s }
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(log, origin.address()), "test.yaml", Map.of()));
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      URI ready = URI.create("http://127.0.0.1:" + proxy.adminAddress().getPort() + "/ready");
      assertThat(status(http, ready)).isEqualTo(200);
      CompletableFuture<Void> stopped;
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        client.send("GET /hangs HTTP/1.1\r\nHost: h\r\n\r\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() == 1);

        stopped = CompletableFuture.runAsync(() -> proxy.stop(Duration.ofSeconds(3)));
        // The admin listener stays up during the drain, answering "not ready" so traffic moves away.
        await().atMost(Duration.ofSeconds(2)).until(() -> status(http, ready) == 503);
        stopped.get();
      }
      List<String> lines = Files.readAllLines(log);
      assertThat(lines).hasSize(1);
      JsonNode line = new ObjectMapper().readTree(lines.get(0));
      assertThat(line.get("outcome").asText()).isEqualTo("drain_deadline");
      assertThat(line.get("route").asText()).isEqualTo("all");
      assertThat(proxy.metrics().requestsCut("web", "drain_deadline")).isEqualTo(1);
      assertThat(proxy.metrics().requestsCut("web", "client_aborted")).isZero();
      String scrape = proxy.metrics().scrape();
      assertThat(scrape).contains("gatehouse_requests_total{cluster=\"c\",code=\"none\",listener=\"web\",route=\"all\"} 1.0");
      assertThat(scrape).doesNotContain("code=\"0\"");
    }
  }

  @Test
  void anHttp2StreamCutAtTheDeadlineIsLoggedAsDrainDeadline() throws Exception {
    Path log = dir.resolve("access.log");
    TestCerts certs = TestCerts.selfSigned(dir);
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      origin.respond(head -> Reply.hang());
      GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
          accessLog: { format: json, path: %s }
          admin: { bind: 127.0.0.1:0 }
          listeners:
            - name: web
              bind: 127.0.0.1:0
              mode: reverse
              tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(log, certs.certificate(), certs.privateKey(), origin.address()), "test.yaml", Map.of()));
      try (RawH2Client h2 = RawH2Client.connect(proxy.address("web").getPort(), certs)) {
        h2.headers(1, true, List.of(new String[] {":method", "GET"}, new String[] {":scheme", "https"},
            new String[] {":path", "/hangs"}, new String[] {":authority", "localhost"}));
        await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() == 1);
        proxy.stop(Duration.ofSeconds(2));
      }
      List<String> lines = Files.readAllLines(log);
      assertThat(lines).hasSize(1);
      JsonNode line = new ObjectMapper().readTree(lines.get(0));
      assertThat(line.get("outcome").asText()).isEqualTo("drain_deadline");
      assertThat(proxy.metrics().requestsCut("web", "drain_deadline")).isEqualTo(1);
      assertThat(proxy.metrics().requestsCut("web", "client_aborted")).isZero();
    }
  }

  @Test
  void aTunnelCutAtTheDeadlineIsLoggedAsDrainDeadline() throws Exception {
    Path log = dir.resolve("access.log");
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
          accessLog: { format: json, path: %s }
          admin: { bind: 127.0.0.1:0 }
          listeners:
            - name: out
              bind: 127.0.0.1:0
              mode: forward
              forward:
                connectPorts: [%d]
                rules: [ { allow: { hosts: ["127.0.0.1"] } } ]
                default: deny
          """.formatted(log, origin.port()), "test.yaml", Map.of()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("out").getPort())) {
        client.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
            + "\r\n\r\n");
        assertThat(client.readResponse("CONNECT").status()).isEqualTo(200);
        proxy.stop(Duration.ofSeconds(1)); // the tunnel stays open until the deadline cuts it
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.readAllLines(log).size() == 1);
      JsonNode line = new ObjectMapper().readTree(Files.readAllLines(log).get(0));
      assertThat(line.get("method").asText()).isEqualTo("CONNECT");
      assertThat(line.get("outcome").asText()).isEqualTo("drain_deadline");
    }
  }

  private static int status(HttpClient http, URI uri) {
    try {
      return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
