package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed and smuggling-shaped requests (RFC 9112 §6.3, §5.2, §2.2): each gets its status, the
 * connection is closed, and the upstream receives nothing. Every request is sent in one write, so
 * the proxy sees the whole of it at once, as it would from an attacker.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MalformedRequestTest {
  private FakeUpstream upstream;
  /** Origin of the parameterized cases only, so other tests' connections never count against them. */
  private FakeUpstream strict;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    strict = FakeUpstream.start("strict");
    // requestBufferBytes: 0, so that bodies stream upstream and the framing cases below show what
    // the upstream gets (RequestBufferingTest covers malformed bodies while buffering).
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - { name: all, cluster: origin }
          - { name: strict, match: { host: strict.test }, cluster: strict }
        clusters:
          - { name: origin, endpoints: ["${ORIGIN}"] }
          - { name: strict, endpoints: ["${STRICT}"] }
        limits: { maxHeaderBytes: 2KiB, maxUriBytes: 1KiB, maxBodyBytes: 1KiB, headerTimeout: 300ms, requestBufferBytes: 0 }
        """, Map.of("ORIGIN", upstream.address(), "STRICT", strict.address()));
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
    if (strict != null) {
      strict.close();
    }
  }

  @BeforeEach
  void clear() {
    upstream.clearRequests();
  }

  static Stream<Arguments> malformed() {
    String longUri = "/" + "a".repeat(2000);
    String bigHeader = "X-Big: " + "b".repeat(3000) + "\r\n";
    return Stream.of(
        Arguments.of("CL+TE", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("TE+CL", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
        Arguments.of("two different Content-Lengths", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Arguments.of("two different Content-Lengths in HTTP/1.0 (Netty's decoder took the first)", 400, "malformed",
            "POST / HTTP/1.0\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        Arguments.of("a garbled transfer coding (RFC 9110 §10.1.4)", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: g/zip, chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("Content-Length list", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        Arguments.of("non-numeric Content-Length", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
        Arguments.of("whitespace before the request line", 400, "malformed",
            " GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("bare CR in the request line", 400, "malformed",
            "GET\r\t/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("HTTP-name in another case (RFC 9112 §2.3)", 400, "malformed",
            "GET / HtTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("obs-fold", 400, "malformed",
            "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n"),
        Arguments.of("bare LF", 400, "malformed",
            "GET / HTTP/1.1\nHost: a\nX-A: b\n\n"),
        Arguments.of("bare CR in a field", 400, "malformed",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n"),
        Arguments.of("NUL in a field value", 400, "malformed",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"),
        Arguments.of("space before colon", 400, "malformed",
            "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n"),
        Arguments.of("missing Host on HTTP/1.1", 400, "malformed",
            "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"),
        Arguments.of("two Host headers", 400, "malformed",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        // RFC 9112 §6.3 rule 4: chunked not the final coding -> 400 and close.
        Arguments.of("transfer coding without chunked", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nhello"),
        Arguments.of("chunked not last", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        // RFC 9112 §6.1: a coding the proxy does not implement, chunked last -> 501.
        Arguments.of("unknown coding before chunked", 501, "not_implemented",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        // Well-framed (an empty list element is ignored, RFC 9110 §5.6.1), but only exactly "chunked" is relayed.
        Arguments.of("chunked with an empty list element", 501, "not_implemented",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n"),
        Arguments.of("chunked twice", 400, "malformed", // RFC 9112 §7: chunked at most once
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1: faulty framing)", 400, "malformed",
            "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        Arguments.of("CONNECT with content (RFC 9110 §9.3.6)", 400, "malformed",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 5\r\n\r\nhello"),
        Arguments.of("CONNECT on a reverse listener", 501, "not_implemented",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        Arguments.of("target neither origin- nor absolute-form", 400, "malformed",
            "GET example.com/x HTTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("absolute-form with user info", 400, "malformed",
            "GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("HTTP/2.0 request line", 505, "unsupported_version",
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
        Arguments.of("HTTP/1.7 request line", 505, "unsupported_version",
            "GET / HTTP/1.7\r\nHost: a\r\n\r\n"),
        Arguments.of("URI too long", 414, "uri_too_long",
            "GET " + longUri + " HTTP/1.1\r\nHost: a\r\n\r\n"),
        Arguments.of("head too large", 431, "headers_too_large",
            "GET / HTTP/1.1\r\nHost: a\r\n" + bigHeader + "\r\n"),
        Arguments.of("declared body too large", 413, "body_too_large",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4096\r\n\r\n" + "x".repeat(4096)),
        // Last: these are found after routing, so the proxy may have opened an upstream connection
        // (accepted asynchronously, which must not be counted against the cases above).
        Arguments.of("bad chunk size", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n"),
        Arguments.of("chunk size overflow", 400, "malformed",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n"));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("malformed")
  void refused_closed_and_never_forwarded(String name, int status, String reason, String request) throws Exception {
    // A target of its own, so that a late record from an earlier test cannot be mistaken for this one.
    String target = "/case-" + Integer.toHexString(name.hashCode());
    String tagged = request.replaceFirst(" / HTTP/", " " + target + " HTTP/").replace("Host: a\r\n", "Host: strict.test\r\n");
    int connectionsBefore = strict.connectionsAccepted();
    long repliesBefore = proxy.metrics().localReplies(reason);
    try (RawHttpClient client = proxy.connect()) {
      client.send(tagged);
      RawResponse response = client.readResponse();
      assertThat(response.status()).as(name).isEqualTo(status);
      if (status == 414) {
        assertThat(response.reason()).as("RFC 9110 §15.5.15").isEqualTo("URI Too Long");
      }
      assertThat(response.header("Connection")).as(name).isEqualToIgnoringCase("close");
      client.readAllUntilClose(); // throws SocketTimeoutException if the proxy keeps it open
    }
    assertThat(proxy.metrics().localReplies(reason)).as(name).isEqualTo(repliesBefore + 1);
    assertThat(strict.requests()).as(name + ": forwarded").noneMatch(r -> r.uri().equals(target));
    if (!name.contains("chunk size")) { // a bad chunk is found after the head was routed and connected
      assertThat(strict.connectionsAccepted()).as(name + ": upstream contacted").isEqualTo(connectionsBefore);
    }
  }

  /** RFC 9112 §3.2: a Host field with an invalid value (RFC 3986 authority grammar) gets 400. */
  @ParameterizedTest(name = "Host: {0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"bad host", "user@a", "a/b", "a:80x", "[zz::1]", "a\\b"})
  void invalid_host_is_refused_and_never_forwarded(String host) throws Exception {
    String target = "/bad-host-" + Integer.toHexString(host.hashCode());
    long repliesBefore = proxy.metrics().localReplies("malformed");
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyAsString()).contains("Host");
      client.readAllUntilClose();
    }
    assertThat(proxy.metrics().localReplies("malformed")).isEqualTo(repliesBefore + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals(target));
  }

  @Test
  void slow_request_head_gets_408_and_close() throws Exception {
    long before = proxy.metrics().localReplies("header_timeout");
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n"); // and never the empty line
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(408);
      client.readAllUntilClose();
    }
    assertThat(proxy.metrics().localReplies("header_timeout")).isEqualTo(before + 1);
    assertThat(upstream.requests()).isEmpty();
  }

  @Test
  void chunked_body_over_the_limit_gets_413_and_close() throws Exception {
    long before = proxy.metrics().localReplies("body_too_large");
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "800\r\n" + "x".repeat(2048) + "\r\n0\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.reason()).as("RFC 9110 §15.5.14").isEqualTo("Content Too Large");
      client.readAllUntilClose();
    }
    assertThat(proxy.metrics().localReplies("body_too_large")).isEqualTo(before + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.complete());
  }

  @Test
  void a_good_request_after_all_that_still_works() throws Exception {
    RawResponse response = proxy.get("a", "/fine");
    assertThat(response.status()).isEqualTo(200);
    assertThat(upstream.lastRequest().uri()).isEqualTo("/fine");
  }

  @Test
  void bad_chunk_after_a_good_one_is_not_completed_upstream() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      client.timeout(Duration.ofSeconds(5));
      client.send("ZZ\r\nworld\r\n0\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(400);
      client.readAllUntilClose();
    }
    // The head and first chunk were streamed; the upstream records the request as cut short.
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests().stream().anyMatch(r -> !r.complete()));
    assertThat(upstream.requests()).noneMatch(r -> r.complete());
  }
}
