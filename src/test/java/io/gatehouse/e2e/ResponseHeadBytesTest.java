package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.RawOrigin;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The upstream's response head reaches the client as its own bytes (issue 11: written forward by
 * ranges): names, order, case and whitespace as the upstream wrote them; only the status line's
 * version, the hop-by-hop fields (RFC 9110 §7.6.1) and the framing the proxy sets (RFC 9112 §6)
 * change. Byte-exact, through a real proxy and an origin that writes fixed bytes.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ResponseHeadBytesTest {

  /**
   * The {@code Date} the proxy adds to a response that came without one (RFC 9110 §6.6.1), as the
   * expected heads write it; the received head's IMF-fixdate is replaced by it before comparing.
   */
  private static final String NOW = "date: (the proxy's clock)";
  private static final Pattern PROXY_DATE =
      Pattern.compile("date: [A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT");

  static Stream<Arguments> exchanges() {
    return Stream.of(
        Arguments.of("fixed length: hop-by-hop fields out, the rest as sent",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 Fine\r\nX-Odd:value\r\nConnection: keep-alive, X-Hop\r\nx-MiXed:  spaced  \r\n"
                + "X-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
                + "Trailer: X-Sum\r\nUpgrade: h2c\r\ncontent-length:5\r\nX-Utf8: caf\u00c3\u00a9\r\n\r\nhello",
            "HTTP/1.1 200 Fine\r\nX-Odd:value\r\nx-MiXed:  spaced  \r\ncontent-length:5\r\nX-Utf8: caf\u00c3\u00a9\r\n"
                + "connection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\nhello"),
        Arguments.of("chunked: chunked again for the client, trailers kept",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding:  chunked\r\nX-A:1\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Sum: 9\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A:1\r\ntransfer-encoding: chunked\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\n"
                + "5\r\nhello\r\n0\r\nX-Sum: 9\r\n\r\n"),
        Arguments.of("HTTP/1.0 upstream, body to the close: HTTP/1.1 and chunked for the client, Via names 1.0",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.0 200 OK\r\nX-A:1\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nX-A:1\r\ntransfer-encoding: chunked\r\nconnection: close\r\nvia: 1.0 gatehouse\r\n" + NOW + "\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("HTTP/1.0 client, body to the close: not chunked, the close ends it",
            "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A:1\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nX-A:1\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\nhello"),
        Arguments.of("HTTP/1.0 client, chunked upstream: the chunks' data, the close ends it (RFC 9112 §6.1)",
            "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A:1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\nX-Sum: 9\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A:1\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\nhello"),
        Arguments.of("HEAD: the length as the upstream stated it, no body",
            "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:  5\r\nX-A:1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:  5\r\nX-A:1\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\n"),
        Arguments.of("304: no body",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nIf-None-Match: \"e\"\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nETag:\"e\"\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nETag:\"e\"\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\n"),
        Arguments.of("no reason phrase: the status line keeps its SP (RFC 9112 §4)",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200\r\nX-A:1\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 \r\nX-A:1\r\nContent-Length: 0\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\n"),
        Arguments.of("Connection cannot take away Content-Length: the client could not delimit the body",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: Content-Length, X-A\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\nvia: 1.1 gatehouse\r\n" + NOW + "\r\n\r\nhello"),
        Arguments.of("a Via to append to: the header path, Via once, at the end",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nVia:1.0 cdn\r\nX-A:  1\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 5\r\nconnection: close\r\nvia: 1.0 cdn, 1.1 gatehouse\r\n" + NOW + "\r\n\r\nhello"),
        Arguments.of("the upstream's Date is kept; none is added",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\nDATE:  Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nDATE:  Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 2\r\nconnection: close\r\n"
                + "via: 1.1 gatehouse\r\n\r\nok"),
        Arguments.of("HTTP/1.0 upstream, a Via to append to: the header path names 1.0 too",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "HTTP/1.0 200 OK\r\nVia:1.0 cdn\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nconnection: close\r\nvia: 1.0 cdn, 1.0 gatehouse\r\n" + NOW + "\r\n\r\nhello"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exchanges")
  void the_client_gets_the_upstream_head_with_only_the_proxy_edits(String name, String request, String upstream,
      String expected) throws Exception {
    try (RawOrigin origin = new RawOrigin(upstream);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: raw } ]
            clusters: [ { name: raw, endpoints: ["127.0.0.1:${PORT}"], timeouts: { response: 5s } } ]
            """, Map.of("PORT", Integer.toString(origin.port())));
        RawHttpClient client = proxy.connect()) {
      client.send(request);
      String received = new String(client.readAllUntilClose(), StandardCharsets.ISO_8859_1);
      assertThat(PROXY_DATE.matcher(received).replaceFirst(NOW)).as(name).isEqualTo(expected);
    }
  }
}
