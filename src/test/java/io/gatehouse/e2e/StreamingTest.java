package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.GeneratedBody;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawOrigin;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** Message framing through the proxy (RFC 9112 §6, §7; RFC 9110 §15.2): bodies stream both ways. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StreamingTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        limits: { maxBodyBytes: 64MiB }
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @BeforeEach
  void reset() {
    upstream.clearRequests();
    upstream.respond(head -> Reply.ok());
  }

  @Test
  void content_length_request_and_response_bodies() throws Exception {
    upstream.respond(head -> Reply.status(201).body("created"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /items HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(201);
      assertThat(response.framing()).isEqualTo(RawResponse.Framing.CONTENT_LENGTH);
      assertThat(response.bodyAsString()).isEqualTo("created");
    }
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.bodyAsString()).isEqualTo("hello world");
    assertThat(received.header("Content-Length")).isEqualTo("11");
    assertThat(received.header("Transfer-Encoding")).isNull();
  }

  @Test
  void chunked_request_with_trailers_is_relayed_chunked() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
          + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.bodyAsString()).isEqualTo("hello world");
    assertThat(received.header("Transfer-Encoding")).isEqualToIgnoringCase("chunked");
    assertThat(received.trailers().get("X-Sum")).isEqualTo("42");
  }

  /**
   * RFC 9110 §6.5.1: a trailer section cannot frame, route or authenticate the message; fields that
   * would (or that the proxy writes for the next hop) are dropped, the others go on, and the body's
   * framing is untouched.
   */
  @Test
  void trailer_fields_that_frame_route_or_authenticate_are_dropped() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\nContent-Length: 50\r\nTransfer-Encoding: gzip\r\nHost: admin.internal\r\n"
          + "X-Forwarded-For: 10.0.0.1\r\nProxy-Authorization: Basic YTpi\r\nConnection: close\r\nX-Sum: 42\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.bodyAsString()).isEqualTo("hello");
    assertThat(received.trailers().names()).containsExactly("X-Sum");
  }

  @Test
  void a_response_trailer_section_is_filtered_the_same_way() throws Exception {
    // Raw bytes: FakeUpstream's encoder would refuse to write these trailer fields at all.
    try (RawOrigin origin = new RawOrigin("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n"
            + "0\r\nContent-Length: 99\r\nVia: 1.1 evil\r\nWWW-Authenticate: Basic\r\nX-Checksum: abc\r\n\r\n");
        ProxyUnderTest raw = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: raw } ]
            clusters: [ { name: raw, endpoints: ["127.0.0.1:${PORT}"] } ]
            """, Map.of("PORT", Integer.toString(origin.port())));
        RawHttpClient client = raw.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.bodyAsString()).isEqualTo("one");
      assertThat(response.trailer("X-Checksum")).isEqualTo("abc");
      assertThat(response.trailer("Content-Length")).isNull();
      assertThat(response.trailer("Via")).isNull();
      assertThat(response.trailer("WWW-Authenticate")).isNull();
    }
  }

  @Test
  void chunked_response_with_trailers_reaches_the_client() throws Exception {
    upstream.respond(head -> Reply.ok().chunks("one,", "two,", "three").trailer("X-Checksum", "abc"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.framing()).isEqualTo(RawResponse.Framing.CHUNKED);
      assertThat(response.bodyAsString()).isEqualTo("one,two,three");
      assertThat(response.trailer("X-Checksum")).isEqualTo("abc");
      client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n"); // framing intact: the connection goes on
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }

  @Test
  void expect_100_continue_is_relayed_before_the_body() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("PUT /file HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      RawResponse interim = client.readHead();
      assertThat(interim.status()).isEqualTo(100);
      client.send("12345");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
    }
    assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("12345");
  }

  @Test
  void expect_100_continue_refused_by_the_upstream() throws Exception {
    upstream.respond(head -> Reply.status(417).withoutContinue());
    try (RawHttpClient client = proxy.connect()) {
      client.send("PUT /file HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(417);
      assertThat(response.informational()).isEmpty();
    }
  }

  @Test
  void head_response_keeps_content_length_and_has_no_body() throws Exception {
    upstream.respond(head -> Reply.ok().body("0123456789"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse head = client.readResponse("HEAD");
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo("10");
      assertThat(head.header("Transfer-Encoding")).isNull();
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse get = client.readResponse();
      assertThat(get.bodyAsString()).as("no stray HEAD body before this response").isEqualTo("0123456789");
    }
  }

  @Test
  void no_content_and_not_modified_have_no_body() throws Exception {
    upstream.respondInOrder(Reply.status(204), Reply.status(304).header("ETag", "\"v1\""), Reply.ok());
    try (RawHttpClient client = proxy.connect()) {
      client.send("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse noContent = client.readResponse();
      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.header("Transfer-Encoding")).isNull();
      assertThat(noContent.header("Content-Length")).isNull();
      client.send("GET /x HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n");
      RawResponse notModified = client.readResponse();
      assertThat(notModified.status()).isEqualTo(304);
      assertThat(notModified.header("ETag")).isEqualTo("\"v1\"");
      assertThat(notModified.header("Transfer-Encoding")).isNull();
      client.send("GET /y HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("origin");
    }
  }

  @Test
  void early_hints_are_relayed() throws Exception {
    upstream.respond(head -> Reply.ok().informational(103, "Link", "</app.css>; rel=preload"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.informational()).hasSize(1);
      assertThat(response.informational().get(0).status()).isEqualTo(103);
      assertThat(response.informational().get(0).header("Link")).isEqualTo("</app.css>; rel=preload");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("origin");
    }
  }

  @Test
  void request_trickling_in_byte_by_byte_is_served() throws Exception {
    String request = "POST /trickle HTTP/1.1\r\nHost: a\r\nX-Long: " + "v".repeat(3000)
        + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    try (RawHttpClient client = proxy.connect()) {
      for (char c : request.toCharArray()) {
        client.send(String.valueOf(c)); // TCP_NODELAY: mostly one segment each
      }
      assertThat(client.readResponse().status()).isEqualTo(200);
      client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r");
      client.send("\n"); // the head's final CRLF split across packets
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(upstream.requests()).extracting(RecordedRequest::uri).containsExactly("/trickle", "/next");
    assertThat(upstream.requests().get(0).bodyAsString()).isEqualTo("hello");
  }

  @Test
  void early_hints_before_a_head_response() throws Exception {
    upstream.respond(head -> Reply.ok().body("0123456789").informational(103, "Link", "</a.css>; rel=preload"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse head = client.readResponse("HEAD");
      assertThat(head.informational()).extracting(RawResponse::status).containsExactly(103);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("Content-Length")).isEqualTo("10");
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("0123456789");
    }
  }

  @Test
  void pipelined_requests_are_answered_in_order() throws Exception {
    upstream.respond(head -> Reply.ok().body("answer to " + head.uri())
        .firstByteDelay(head.uri().equals("/1") ? Duration.ofMillis(100) : Duration.ZERO));
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
          + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
          + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("answer to /1");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("answer to /2");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("answer to /3");
    }
    assertThat(upstream.requests()).extracting(RecordedRequest::uri).containsExactly("/1", "/2", "/3");
    assertThat(upstream.requests().get(1).bodyAsString()).isEqualTo("abc");
  }

  @Test
  void http10_client_gets_a_close_delimited_body() throws Exception {
    upstream.respond(head -> Reply.ok().body("until the end").closeDelimited());
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("until the end");
      assertThat(response.header("Transfer-Encoding")).as("HTTP/1.0 knows no chunked").isNull();
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void http11_client_gets_a_close_delimited_body_chunked_and_keeps_its_connection() throws Exception {
    upstream.respond(head -> Reply.ok().body("until the end").closeDelimited());
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.framing()).isEqualTo(RawResponse.Framing.CHUNKED);
      assertThat(response.bodyAsString()).isEqualTo("until the end");
      upstream.respond(head -> Reply.ok());
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("origin");
    }
  }

  @Test
  void http10_keep_alive_client() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
      RawResponse first = client.readResponse();
      assertThat(first.header("Connection")).isEqualToIgnoringCase("keep-alive");
      client.send("GET / HTTP/1.0\r\nHost: a\r\n\r\n");
      RawResponse second = client.readResponse();
      assertThat(second.bodyAsString()).isEqualTo("origin");
      assertThat(client.isClosedByPeer()).isTrue();
    }
    assertThat(upstream.lastRequest().protocolVersion()).isEqualTo("HTTP/1.1");
  }

  @Test
  void upstream_answering_before_the_upload_ended_reaches_the_client() throws Exception {
    upstream.respond(head -> Reply.status(403).body("no uploads here").early());
    try (RawHttpClient client = proxy.connect()) {
      int size = 8 * 1024 * 1024;
      client.send("PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: " + size + "\r\n\r\n");
      Thread writer = new Thread(() -> {
        byte[] chunk = new byte[64 * 1024];
        try {
          for (int sent = 0; sent < size; sent += chunk.length) {
            client.socket().getOutputStream().write(chunk);
          }
        } catch (java.io.IOException expected) {
          // the proxy closes once the response is out
        }
      });
      writer.setDaemon(true);
      writer.start();
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(403);
      assertThat(response.bodyAsString()).isEqualTo("no uploads here");
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      writer.join(10_000);
    }
  }

  @Test
  void client_leaving_mid_response_closes_the_upstream_connection() throws Exception {
    try (FakeUpstream own = FakeUpstream.start("own");
        ProxyUnderTest single = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: own } ]
            clusters: [ { name: own, endpoints: ["${OWN}"] } ]
            """, Map.of("OWN", own.address()))) {
      own.respond(head -> Reply.stream(64L * 1024 * 1024));
      try (RawHttpClient client = single.connect()) {
        client.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
        client.readHead();
      }
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> own.openConnections() == 0);
      own.respond(head -> Reply.ok());
      assertThat(single.get("a", "/after").status()).isEqualTo(200);
      assertThat(own.connectionsAccepted()).as("the aborted connection was not pooled").isEqualTo(2);
    }
  }

  @Test
  void large_bodies_stream_through_unchanged() throws Exception {
    long size = 8L * 1024 * 1024 + 17;
    upstream.respond(head -> Reply.stream(size));
    HttpResponse<byte[]> response = ProxyUnderTest.httpClient().send(
        HttpRequest.newBuilder(proxy.uri("/big")).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    byte[] body = response.body();
    assertThat(body).hasSize((int) size);
    for (int i = 0; i < body.length; i += 4093) {
      assertThat(body[i]).isEqualTo(GeneratedBody.byteAt(i));
    }
  }

  @Test
  void large_upload_is_echoed_back_chunked() throws Exception {
    upstream.respond(head -> Reply.echo());
    byte[] payload = new byte[4 * 1024 * 1024];
    for (int i = 0; i < payload.length; i++) {
      payload[i] = GeneratedBody.byteAt(i);
    }
    HttpResponse<byte[]> response = ProxyUnderTest.httpClient().send(
        HttpRequest.newBuilder(proxy.uri("/echo")).timeout(Duration.ofSeconds(20))
            .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(payload);
    List<RecordedRequest> requests = upstream.requests();
    assertThat(requests.get(requests.size() - 1).bodyLength()).isEqualTo(payload.length);
  }
}
