package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.Reply;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The same requests, direct and through the proxy: same status, body and end-to-end headers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DifferentialTest {
  /** Hop-by-hop, framing and the proxy's own additions: allowed to differ (RFC 9110 §7.6). */
  private static final Set<String> HOP = Set.of("connection", "keep-alive", "transfer-encoding", "content-length",
      "via", "date", "proxy-connection");

  @Test
  void directAndProxiedResponsesMatch() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            rules:
              - allow: { name: local, hosts: ["127.0.0.1"] }
            """)) {
      origin.respond(head -> switch (head.uri()) {
        case "/404" -> Reply.status(404).body("nothing here").header("X-Reason", "missing");
        case "/chunked" -> Reply.ok().chunks("a", "bb", "ccc").header("Cache-Control", "max-age=60");
        case "/big" -> Reply.stream(300_000);
        case "/204" -> Reply.status(204).header("X-Empty", "yes");
        case "/echo" -> Reply.echo();
        default -> Reply.ok().header("Set-Cookie", "a=1").header("ETag", "\"v1\"");
      });
      HttpClient direct = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpClient proxied = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
          .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", proxy.port()))).build();
      String base = "http://127.0.0.1:" + origin.port();
      List<HttpRequest> requests = List.of(
          HttpRequest.newBuilder(URI.create(base + "/")).build(),
          HttpRequest.newBuilder(URI.create(base + "/404")).build(),
          HttpRequest.newBuilder(URI.create(base + "/chunked")).build(),
          HttpRequest.newBuilder(URI.create(base + "/big")).build(),
          HttpRequest.newBuilder(URI.create(base + "/204")).build(),
          HttpRequest.newBuilder(URI.create(base + "/")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
          HttpRequest.newBuilder(URI.create(base + "/echo")).POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build());
      for (HttpRequest request : requests) {
        HttpRequest timed = HttpRequest.newBuilder(request, (n, v) -> true).timeout(Duration.ofSeconds(10)).build();
        HttpResponse<byte[]> a = direct.send(timed, HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> b = proxied.send(timed, HttpResponse.BodyHandlers.ofByteArray());
        String what = request.method() + " " + request.uri();
        assertThat(b.statusCode()).as(what).isEqualTo(a.statusCode());
        assertThat(b.body()).as(what).isEqualTo(a.body());
        assertThat(endToEnd(b.headers().map())).as(what).isEqualTo(endToEnd(a.headers().map()));
        assertThat(b.headers().firstValue("via")).as(what).hasValue("1.1 gatehouse");
      }
    }
  }

  private static Map<String, List<String>> endToEnd(Map<String, List<String>> headers) {
    Map<String, List<String>> kept = new TreeMap<>();
    headers.forEach((name, values) -> {
      if (!HOP.contains(name.toLowerCase())) {
        kept.put(name.toLowerCase(), values);
      }
    });
    return kept;
  }
}
