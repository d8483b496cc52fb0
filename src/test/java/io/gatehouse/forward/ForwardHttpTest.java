package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.Curl;
import io.gatehouse.testing.CurlResult;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ForwardHttpTest {
  private FakeUpstream origin;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    origin = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        rules:
          - allow: { name: local-origins, hosts: ["127.0.0.1", "localhost"] }
        default: deny
        """);
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  /** {@code printf 'GET http://... HTTP/1.1\r\n...' | nc -N proxy port}: answered, then closed (RFC 9112 §9.6). */
  @Test
  void absoluteFormRequestThenHalfCloseIsAnswered() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET http://127.0.0.1:" + origin.port() + "/nc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      client.shutdownOutput();
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.bodyAsString()).isEqualTo("origin");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(origin.lastRequest().uri()).isEqualTo("/nc");
  }

  @Test
  void curlGetsThroughTheProxyInOriginForm() {
    CurlResult r = Curl.get("http://127.0.0.1:" + origin.port() + "/hello?x=1").proxy(proxy.address()).run();

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.stdout()).isEqualTo("origin");
    RecordedRequest seen = origin.lastRequest();
    assertThat(seen.uri()).isEqualTo("/hello?x=1");
    assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + origin.port());
  }

  @Test
  void userinfoIsStrippedAndHostComesFromTheUri() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET http://bob:secret@127.0.0.1:" + origin.port() + "/p#frag HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
    }
    RecordedRequest seen = origin.lastRequest();
    assertThat(seen.uri()).isEqualTo("/p");
    assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + origin.port());
    assertThat(seen.headers().toString()).doesNotContain("secret");
  }

  @Test
  void keepAliveBothWaysWithPooledOriginConnection() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      for (int i = 0; i < 3; i++) {
        client.send("GET http://127.0.0.1:" + origin.port() + "/" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
    }
    assertThat(origin.requests()).extracting(RecordedRequest::uri).containsExactly("/0", "/1", "/2");
    assertThat(origin.connectionsAccepted()).isEqualTo(1);
  }

  @Test
  void aHeadSpreadOverManyReadsIsRelayed() throws Exception {
    String cookie = "c=" + "x".repeat(6000);
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      String head = "GET http://127.0.0.1:" + origin.port() + "/big-head HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n";
      for (int i = 0; i < head.length(); i += 1000) { // several segments, as a slow client sends them
        client.send(head.substring(i, Math.min(head.length(), i + 1000)));
        client.socket().getOutputStream().flush();
        Thread.onSpinWait();
      }
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(origin.lastRequest().header("Cookie")).isEqualTo(cookie);
  }

  @Test
  void requestBodiesStreamToTheOrigin() {
    origin.respond(head -> Reply.echo());
    CurlResult r = Curl.get("http://127.0.0.1:" + origin.port() + "/upload").proxy(proxy.address())
        .data("payload-123").run();

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.stdout()).isEqualTo("payload-123");
    assertThat(origin.lastRequest().method()).isEqualTo("POST");
  }

  @Test
  void everyMethodIsRelayed() throws Exception {
    for (String method : List.of("PUT", "DELETE", "OPTIONS", "PATCH", "HEAD")) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send(method + " http://127.0.0.1:" + origin.port() + "/m HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assertThat(client.readResponse(method).status()).as(method).isEqualTo(200);
      }
      assertThat(origin.lastRequest().method()).isEqualTo(method);
    }
  }

  @Test
  void unreachableOriginIs502() throws Exception {
    int deadPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET http://127.0.0.1:" + deadPort + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(502);
    }
  }

  /** RFC 9112 §3.2.4: an OPTIONS of a URI with an empty path asks about the server: the origin gets "*". */
  @Test
  void optionsOfAUriWithoutPathReachesTheOriginInAsteriskForm() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("OPTIONS http://127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nMax-Forwards: 1\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      RecordedRequest seen = origin.lastRequest();
      assertThat(seen.uri()).isEqualTo("*");
      assertThat(seen.header("Max-Forwards")).as("one hop fewer (RFC 9110 §7.6.2)").isEqualTo("0");
      client.send("OPTIONS http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(origin.lastRequest().uri()).as("a path of / is a resource").isEqualTo("/");
    }
  }

  /** RFC 9110 §7.6.2: with Max-Forwards 0 the proxy is the final recipient; its rules still come first. */
  @Test
  void traceWithNoHopLeftIsAnsweredByTheProxyAfterItsRules() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("TRACE http://127.0.0.1:" + origin.port() + "/t HTTP/1.1\r\nHost: 127.0.0.1\r\nMax-Forwards: 0\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("Content-Type")).isEqualTo("message/http");
      assertThat(r.bodyAsString()).startsWith("TRACE http://127.0.0.1:" + origin.port() + "/t HTTP/1.1\r\n");
      client.send("TRACE http://denied.example/t HTTP/1.1\r\nHost: denied.example\r\nMax-Forwards: 0\r\n\r\n");
      assertThat(client.readResponse().status()).as("the default rule denies it first").isEqualTo(403);
    }
    assertThat(origin.requests()).isEmpty();
  }
}
