package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 to clients over TLS (ALPN h2), HTTP/1.1 to the upstream. */
@Timeout(30)
class Http2Test {
  @TempDir Path dir;
  private FakeUpstream origin;
  private GatehouseServer proxy;
  private TestCerts certs;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    certs = TestCerts.selfSigned(dir);
    origin = FakeUpstream.start("a");
    proxy = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), origin.address()), "test.yaml", Map.of()));
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.clientSslContext())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  private URI uri(String path) {
    return URI.create("https://localhost:" + proxy.address("public").getPort() + path);
  }

  @Test
  void servesConcurrentStreamsOverOneConnection() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      futures.add(client.sendAsync(HttpRequest.newBuilder(uri("/s" + i)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : futures) {
      HttpResponse<String> response = f.get();
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("a");
    }
    assertThat(origin.requests()).hasSize(20);
    assertThat(origin.requests()).allSatisfy(r -> {
      assertThat(r.headers().get("host")).startsWith("localhost:");
      assertThat(r.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2"));
      assertThat(r.headers().get("x-forwarded-proto")).isEqualTo("https");
    });
  }

  @Test
  void streamsRequestAndResponseBodies() throws Exception {
    origin.respond(head -> Reply.echo());
    String body = "x".repeat(300_000);
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/echo"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(body);
  }

  @Test
  void localRepliesWorkOnStreams() throws Exception {
    origin.kill();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/x")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(response.statusCode()).isEqualTo(502);
  }

  @Test
  void http1ClientsStillWork() throws Exception {
    HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(certs.clientSslContext()).build();
    HttpResponse<String> response = h1.send(HttpRequest.newBuilder(uri("/one")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(response.statusCode()).isEqualTo(200);
  }
}
