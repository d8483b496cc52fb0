package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.RawOrigin;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Responses no proxy should pass on (RFC 9112 §6.3: ambiguous framing from the upstream is a
 * smuggling vector too): 502, the upstream connection is not reused, the client connection survives.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UpstreamMisbehaviourTest {

  static Stream<Arguments> responses() {
    return Stream.of(
        Arguments.of("Content-Length and chunked",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("two Content-Lengths",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Arguments.of("garbage status line", "HTTP/1.1 two hundred OK\r\n\r\n"),
        // RFC 9112 §4 lets a recipient split a status line on whitespace runs; Netty did, the own
        // parser keeps the grammar's one SP, as for request lines.
        Arguments.of("HTAB after the version", "HTTP/1.1\t200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        Arguments.of("whitespace before the status line", " HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        // RFC 9110 §10.1.4: a coding that is none; its last one not chunked, it was read until close.
        Arguments.of("a garbled transfer coding",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: g/zip\r\n\r\nhello"),
        // A coding the proxy does not decode: relayed, the client would get it still coded, unmarked.
        Arguments.of("gzip, chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("gzip read until close", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello"),
        // Not the chunked the framing knows (a parameter), so read until close: its chunk lines would
        // reach the client as the body.
        Arguments.of("chunked with a parameter", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("a coding with a quoted comma in its parameter, then chunked",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: x;a=\"b,c\", chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunked applied twice (RFC 9112 §6.1)",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("two Content-Lengths in HTTP/1.0",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nhi!"),
        Arguments.of("not HTTP at all", "SSH-2.0-OpenSSH_9.6\r\n\r\n"),
        Arguments.of("protocol switch nobody asked for",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
        Arguments.of("header section too large",
            "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(70 * 1024) + "\r\nContent-Length: 0\r\n\r\n"),
        Arguments.of("closed before the head ended", "HTTP/1.1 200 OK\r\nContent-Le"),
        // Netty's response decoder repaired or passed these; the own parser refuses them.
        Arguments.of("field line without a colon (a hidden Content-Length)",
            "HTTP/1.1 200 OK\r\nContent-Length3 2\r\nContent-Length: 5\r\n\r\nhello"),
        Arguments.of("obs-fold (RFC 9112 §5.2: a proxy may answer 502)",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 5\r\n\r\nhello"),
        Arguments.of("control byte in the reason phrase",
            "HTTP/1.1 200 O\u0001K\r\nContent-Length: 5\r\n\r\nhello"),
        Arguments.of("status below 100", "HTTP/1.1 099 Odd\r\nContent-Length: 5\r\n\r\nhello"),
        Arguments.of("Transfer-Encoding in an HTTP/1.0 response (RFC 9112 §6.1)",
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  }

  /**
   * Odd but well-framed by RFC 9110 §5.6: a chunked body behind a list with an empty element. Read as chunked, the response ends at its last chunk
   * (the origin keeps the connection open); read until close, as the parser once read "chunked,"
   * (found by HeadParserFuzzTest), the client would wait for the response timeout.
   */
  static Stream<Arguments> oddButFramed() {
    return Stream.of(
        Arguments.of("an empty element after chunked", "chunked,"),
        Arguments.of("an empty later field", "chunked\r\nTransfer-Encoding: , "));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oddButFramed")
  void a_chunked_response_behind_an_odd_list_ends_at_its_last_chunk(String name, String codings) throws Exception {
    try (RawOrigin origin = new RawOrigin("HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings
            + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: raw } ]
            clusters: [ { name: raw, endpoints: ["127.0.0.1:${PORT}"], timeouts: { response: 20s } } ]
            """, Map.of("PORT", Integer.toString(origin.port())));
        RawHttpClient client = proxy.connect()) {
      long start = System.nanoTime();
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).as(name).isEqualTo(200);
      assertThat(response.bodyAsString()).as(name).isEqualTo("hello");
      assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).as(name).isLessThan(10);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("responses")
  void bad_response_is_a_502(String name, String bytes) throws Exception {
    try (RawOrigin origin = new RawOrigin(bytes);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: raw } ]
            clusters: [ { name: raw, endpoints: ["127.0.0.1:${PORT}"], timeouts: { response: 5s } } ]
            """, Map.of("PORT", Integer.toString(origin.port())));
        RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).as(name).isEqualTo(502);
      assertThat(response.bodyAsString()).doesNotContain("hello");
    }
  }
}
