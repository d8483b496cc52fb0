package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawOrigin;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The client's request head reaches the upstream as its own bytes (issue 11: written forward by
 * ranges): names, order, case and whitespace as the client wrote them; only the request line's
 * version, the hop-by-hop fields (RFC 9110 §7.6.1), the framing the proxy sets and the proxy's own
 * fields ({@code X-Forwarded-*}, {@code Forwarded}, {@code Via}, a rewritten {@code Host}) change.
 * A {@code Connection} list never takes away {@code Content-Length} or {@code Host}, nor a field the
 * proxy adds. Byte-exact, through a real proxy, at an origin that records what it received.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RequestHeadBytesTest {
  private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

  static Stream<Arguments> exchanges() {
    return Stream.of(
        Arguments.of("fields as sent, hop-by-hop out, the proxy's fields at the end",
            "",
            "GET /a?b=c HTTP/1.1\r\nHost: shop.test\r\nX-Odd:value\r\nConnection: keep-alive, X-Hop\r\n"
                + "x-MiXed:  spaced  \r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
                + "TE: trailers\r\nX-Utf8: caf\u00c3\u00a9\r\n\r\n",
            "GET /a?b=c HTTP/1.1\r\nHost: shop.test\r\nX-Odd:value\r\nx-MiXed:  spaced  \r\n"
                + "X-Utf8: caf\u00c3\u00a9\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\n"
                + "x-forwarded-host: shop.test\r\nvia: 1.1 gatehouse\r\n\r\n"),
        Arguments.of("an existing X-Forwarded-For is appended to, in its place at the end",
            "",
            "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.7\r\nHost: shop.test\r\nAccept: */*\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: shop.test\r\nAccept: */*\r\nx-forwarded-for: 198.51.100.7, 127.0.0.1\r\n"
                + "x-forwarded-proto: http\r\nx-forwarded-host: shop.test\r\nvia: 1.1 gatehouse\r\n\r\n"),
        Arguments.of("Connection cannot take away Content-Length, Host or the proxy's own fields",
            "",
            "POST /up HTTP/1.1\r\nHost: shop.test\r\nConnection: Content-Length, host, X-Forwarded-For, x-forwarded-proto\r\n"
                + "Content-Length: 5\r\n\r\nhello",
            "POST /up HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nx-forwarded-for: 127.0.0.1\r\n"
                + "x-forwarded-proto: http\r\nx-forwarded-host: shop.test\r\nvia: 1.1 gatehouse\r\n\r\n"),
        Arguments.of("HTTP/1.0 client, absolute-form target: HTTP/1.1, origin-form, Host from the target, Via 1.0",
            "",
            "GET http://other.test/p HTTP/1.0\r\nHost: shop.test\r\nUser-Agent: t\r\n\r\n",
            "GET /p HTTP/1.1\r\nUser-Agent: t\r\nhost: other.test\r\nx-forwarded-for: 127.0.0.1\r\n"
                + "x-forwarded-proto: http\r\nx-forwarded-host: other.test\r\nvia: 1.0 gatehouse\r\n\r\n"),
        Arguments.of("chunked stays chunked; Forwarded and Via when configured; Host rewritten by the route",
            "headers: { forwarded: true, via: true, xForwarded: false }",
            "PUT /c HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding:  chunked\r\nVia: 1.0 edge\r\n\r\n"
                + "5\r\nhello\r\n0\r\n\r\n",
            "PUT /c HTTP/1.1\r\nforwarded: for=127.0.0.1;proto=http;host=shop.test\r\n"
                + "via: 1.0 edge, 1.1 gatehouse\r\nhost: backend.test\r\ntransfer-encoding: chunked\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("exchanges")
  void the_upstream_gets_the_client_head_with_only_the_proxy_edits(String name, String listenerHeaders,
      String request, String expected) throws Exception {
    boolean rewrite = expected.contains("backend.test");
    try (RawOrigin origin = new RawOrigin(OK);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse${HEADERS} } ]
            routes: [ { name: all, cluster: raw${REWRITE} } ]
            clusters: [ { name: raw, endpoints: ["127.0.0.1:${PORT}"], timeouts: { response: 5s } } ]
            """.replace("${HEADERS}", listenerHeaders.isEmpty() ? "" : ", " + listenerHeaders).replace("${REWRITE}", rewrite ? ", hostRewrite: backend.test" : ""),
            Map.of("PORT", Integer.toString(origin.port())));
        RawHttpClient client = proxy.connect()) {
      client.send(request);
      assertThat(origin.nextHead()).as(name).isEqualTo(expected);
    }
  }

  /**
   * Forward proxy: origin-form, Host from the target, Proxy-* fields gone (RFC 9110 §11.7: the
   * credentials are for this proxy alone), X-Forwarded-For appended and Via added as Squid does; the
   * client's other fields as it wrote them.
   */
  @org.junit.jupiter.api.Test
  void a_forwarded_request_reaches_the_origin_with_only_the_forward_proxys_edits() throws Exception {
    try (RawOrigin origin = new RawOrigin(OK);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners:
              - name: egress
                bind: 127.0.0.1:0
                mode: forward
                forward: { anonymize: false, rules: [ { allow: { name: local, hosts: ["127.0.0.1"] } } ] }
            """);
        RawHttpClient client = proxy.connect()) {
      client.send("GET http://127.0.0.1:" + origin.port() + "/p?q HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n"
          + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n"
          + "X-Forwarded-For: 10.1.1.1\r\nAccept:*/*\r\n\r\n");
      assertThat(origin.nextHead()).isEqualTo("GET /p?q HTTP/1.1\r\nUser-Agent: t\r\nAccept:*/*\r\n"
          + "host: 127.0.0.1:" + origin.port() + "\r\nx-forwarded-for: 10.1.1.1, 127.0.0.1\r\nvia: 1.1 gatehouse\r\n\r\n");
    }
  }
}
