package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every request a forward listener must refuse, over a raw socket, and what the client gets. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ForwardBadInputTest {
  private FakeUpstream origin;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    origin = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        connectPorts: [443]
        rules:
          - deny: { name: blocklist, hosts: ["*.ads.example", "tracker.example"] }
          - allow: { name: local-ip, hosts: ["127.0.0.1"] }
          - allow: { name: loopback-clients, clients: ["127.0.0.0/8"] }
        default: deny
        """);
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  private RawResponse send(String request) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send(request);
      return client.readResponse();
    }
  }

  @Test
  void originFormIs400() throws Exception {
    RawResponse r = send("GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.bodyAsString()).contains("absolute URI");
    assertThat(origin.requests()).isEmpty();
  }

  /**
   * RFC 9110 §9.3.6: a CONNECT has no content. One that declares a body is refused before any
   * tunnel opens: otherwise its "body" would be either swallowed or sent down the tunnel, depending
   * on who reads it (found by HeadParserFuzzTest).
   */
  @Test
  void connectWithContentIs400AndOpensNoTunnel() throws Exception {
    for (String framing : new String[] {"Content-Length: 5\r\n\r\nhello", "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"}) {
      RawResponse r = send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port()
          + "\r\n" + framing);
      assertThat(r.status()).as(framing).isEqualTo(400);
      assertThat(r.bodyAsString()).contains("CONNECT with content");
    }
    assertThat(origin.connectionsAccepted()).isZero();
  }

  @Test
  void unsupportedSchemeIs501() throws Exception {
    RawResponse r = send("GET ftp://127.0.0.1/file HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assertThat(r.status()).isEqualTo(501);
    assertThat(r.bodyAsString()).contains("ftp");
  }

  @Test
  void overLongUriIs414() throws Exception {
    RawResponse r = send("GET http://127.0.0.1:" + origin.port() + "/" + "a".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(r.status()).isEqualTo(414);
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void badAuthorityIs400() throws Exception {
    assertThat(send("GET http://bad host/ HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("GET http://127.0.0.1:99999/ HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("GET http:///path HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
  }

  /** RFC 9112 §3.2: an invalid Host is 400 even though an absolute-form target replaces it. */
  @Test
  void invalidHostIs400EvenWithAnAbsoluteTarget() throws Exception {
    String target = "http://127.0.0.1:" + origin.port() + "/";
    assertThat(send("GET " + target + " HTTP/1.1\r\nHost: bad host\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("GET " + target + " HTTP/1.1\r\nHost: user@127.0.0.1\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: a b\r\n\r\n").status()).isEqualTo(400);
    assertThat(origin.requests()).isEmpty();
    assertThat(send("GET " + target + " HTTP/1.1\r\nHost: anything.example:81\r\n\r\n").status()).isEqualTo(200);
  }

  @Test
  void connectToBadAuthorityIs400() throws Exception {
    assertThat(send("CONNECT 127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("CONNECT [zz::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
    assertThat(send("CONNECT /path HTTP/1.1\r\nHost: x\r\n\r\n").status()).isEqualTo(400);
  }

  @Test
  void requestToTheProxyItselfIsALoop() throws Exception {
    RawResponse r = send("GET http://127.0.0.1:" + proxy.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(r.status()).isEqualTo(508);
    RawResponse viaLocalhost = send("GET http://localhost:" + proxy.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(viaLocalhost.status()).isIn(508, 403); // localhost is not listed: private check may come first
  }

  @Test
  void aRequestThatPassedTooManyProxiesIsALoop() throws Exception {
    String via = "Via: " + String.join(", ", java.util.Collections.nCopies(17, "1.1 other")) + "\r\n";
    RawResponse r = send("GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n" + via + "\r\n");
    assertThat(r.status()).isEqualTo(508);
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void deniedHostIs403NamingTheRule() throws Exception {
    RawResponse r = send("GET http://pixel.ads.example/x HTTP/1.1\r\nHost: pixel.ads.example\r\n\r\n");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.header("X-Gatehouse-Denied")).isEqualTo("blocklist");
    assertThat(r.bodyAsString()).contains("blocklist");
    assertThat(proxy.server.metrics().scrape()).contains("gatehouse_forward_denied_total{rule=\"blocklist\"} 1.0");
  }

  @Test
  void connectToAPortNotListedIs403() throws Exception {
    RawResponse r = send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.header("X-Gatehouse-Denied")).isEqualTo("connect-ports");
  }

  @Test
  void nameResolvingToLoopbackIsRefusedAfterResolution() throws Exception {
    // "localhost" passes the rules (loopback-clients allows any host) but resolves to 127.0.0.1.
    RawResponse r = send("GET http://localhost:" + origin.port() + "/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.header("X-Gatehouse-Denied")).isEqualTo("private-destination");
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void refusedRequestKeepsTheConnectionUsable() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET http://tracker.example/ HTTP/1.1\r\nHost: tracker.example\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(403);
      client.send("GET http://127.0.0.1:" + origin.port() + "/ok HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }
}
