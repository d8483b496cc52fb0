package io.gatehouse.lifecycle;

import static io.gatehouse.testing.RawH2Client.fields;
import static io.gatehouse.testing.RawH2Client.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import io.netty.handler.codec.http2.Http2Error;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 9113 conformance of the HTTP/2 listener, frame by frame: a malformed request is a stream
 * error PROTOCOL_ERROR at once and never reaches the upstream whole (§8.1.1); state and frame
 * errors carry the code the RFC names, never CANCEL; a stream error leaves sibling streams alone.
 */
@Timeout(30)
class Http2ConformanceTest {
  private static final long PROTOCOL_ERROR = Http2Error.PROTOCOL_ERROR.code();
  private static final long STREAM_CLOSED = Http2Error.STREAM_CLOSED.code();

  @TempDir Path dir;
  private TestCerts certs;
  private FakeUpstream origin;
  private ProxyUnderTest proxy;
  private RawH2Client h2;

  @BeforeEach
  void start() throws Exception {
    certs = TestCerts.selfSigned(dir);
    origin = FakeUpstream.start("a");
    origin.respond(head -> head.uri().startsWith("/hang") ? Reply.hang() : Reply.ok());
    // requestBufferBytes: 0, so that a body streams and the upstream exchange is open mid-body,
    // which is what the stream-error cases below check the ending of.
    proxy = ProxyUnderTest.start("""
        limits: { requestBufferBytes: 0 }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), origin.address()));
    h2 = RawH2Client.connect(proxy.port(), certs);
  }

  @AfterEach
  void stop() throws Exception {
    h2.close();
    proxy.close();
    origin.close();
  }

  // --- malformed requests (§8.1.1, §8.2, §8.3.1): RST_STREAM PROTOCOL_ERROR, nothing forwarded ---

  @Test
  void missingScheme() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.remove(1);
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void missingMethod() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.remove(0);
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void missingPath() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.remove(2);
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void emptyPath() throws Exception {
    assertRefusedAndSiblingServed(request("GET", "", "localhost"), true);
  }

  /** RFC 9113 §8.3.1: an https :path is origin-form, or "*" for OPTIONS only. */
  @ParameterizedTest
  @ValueSource(strings = {"localhost", "http://localhost/bad", "*", "bad/"})
  void pathNotInOriginForm(String path) throws Exception {
    assertRefusedAndSiblingServed(request(path.equals("*") ? "GET" : "OPTIONS", path, "localhost"), true);
  }

  /**
   * A :path with a byte outside VCHAR has no place in an HTTP/1.1 request line (RFC 9112 §3.2; RFC
   * 3986 has no SP, HTAB or raw non-ASCII): forwarded, it would be a broken or a different request.
   */
  @ParameterizedTest
  @ValueSource(strings = {"/a b", "/a\tb", "/caf\u00e9", "/a\u007f"})
  void pathHttp1CannotCarry(String path) throws Exception {
    assertRefusedAndSiblingServed(request("GET", path, "localhost"), true);
  }

  /** §5.1.1: a stream refused at its first header block stays used; a second block on it is no request. */
  @Test
  void headersAgainOnAStreamRefusedAtItsFirstHeaderBlock() throws Exception {
    List<String[]> bad = request("GET", "/bad", "localhost");
    bad.add(new String[] {":status", "200"});
    h2.headers(1, true, bad);
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    h2.headers(1, true, request("GET", "/again", "localhost"));
    assertSiblingServed(3);
    assertThat(origin.requests()).extracting(RecordedRequest::uri).containsExactly("/good");
  }

  @Test
  void unknownPseudoHeader() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {":foo", "bar"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void responsePseudoHeaderInRequest() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {":status", "200"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void duplicatedPseudoHeader() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {":path", "/other"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void pseudoHeaderAfterRegularHeader() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(2, new String[] {"accept", "*/*"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void connectWithPath() throws Exception {
    assertRefusedAndSiblingServed(fields(":method", "CONNECT", ":authority", "example.com:443", ":path", "/"), true);
  }

  /** RFC 8441: :protocol needs SETTINGS_ENABLE_CONNECT_PROTOCOL, which Gatehouse never sends. */
  @Test
  void protocolPseudoHeaderWithoutExtendedConnect() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {":protocol", "websocket"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void connectWithScheme() throws Exception {
    assertRefusedAndSiblingServed(fields(":method", "CONNECT", ":scheme", "https", ":authority", "example.com:443"), true);
  }

  /** §8.5: a CONNECT's :authority is host:port (found by Http2FrameSequenceFuzzTest: "/a?b" went on as the target). */
  @ParameterizedTest
  @ValueSource(strings = {"/a?b", "example.com", "a b:443"})
  void connectToAnAuthorityThatIsNotHostAndPort(String authority) throws Exception {
    assertRefusedAndSiblingServed(fields(":method", "CONNECT", ":authority", authority), true);
  }

  /** §8.3.1: a {@code host} field that disagrees with {@code :authority} makes the request malformed. */
  @Test
  void hostDisagreeingWithAuthority() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {"host", "elsewhere.example"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @ParameterizedTest
  @ValueSource(strings = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"})
  void connectionSpecificField(String name) throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {name, switch (name) {
      case "transfer-encoding" -> "chunked";
      case "upgrade" -> "websocket";
      default -> "keep-alive";
    }});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void teOtherThanTrailers() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {"te", "trailers, deflate"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void uppercaseFieldName() throws Exception {
    List<String[]> fields = request("GET", "/bad", "localhost");
    fields.add(new String[] {"X-Upper", "1"});
    assertRefusedAndSiblingServed(fields, true);
  }

  @Test
  void pseudoHeaderInTrailers() throws Exception {
    List<String[]> head = request("POST", "/bad", "localhost");
    h2.headers(1, false, head);
    h2.data(1, false, "hello");
    h2.headers(1, true, fields(":path", "/trailer", "x-t", "1"));
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
    assertNoBadRequestComplete();
  }

  @Test
  void contentLengthAboveData() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {"content-length", "10"});
    h2.headers(1, false, fields);
    h2.data(1, true, "hello");
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
    assertNoBadRequestComplete();
  }

  @Test
  void contentLengthBelowData() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {"content-length", "3"});
    h2.headers(1, false, fields);
    h2.data(1, true, "hello");
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
    assertNoBadRequestComplete();
  }

  @Test
  void contentLengthWithoutData() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {"content-length", "5"});
    assertRefusedAndSiblingServed(fields, true);
  }

  /** The head and the first DATA are forwarded before the excess shows: the upstream exchange is cut. */
  @Test
  void contentLengthExceededMidBodyAbortsTheUpstreamExchange() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {"content-length", "6"});
    h2.headers(1, false, fields);
    h2.data(1, false, "abc");
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 1);
    h2.data(1, false, "defg");
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(origin.requests())
        .filteredOn(r -> r.uri().equals("/bad")).singleElement()
        .satisfies(r -> assertThat(r.complete()).isFalse()));
    assertSiblingServed(3);
  }

  // --- stream and connection errors with the right code (§5.1, §5.1.1, §6) ---

  @Test
  void dataOnHalfClosedRemoteStream() throws Exception {
    h2.headers(1, true, request("GET", "/hang", "localhost"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests().size() == 1);
    h2.data(1, true, "late");
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(STREAM_CLOSED);
    assertSiblingServed(3);
  }

  @Test
  void headersOnHalfClosedRemoteStream() throws Exception {
    h2.headers(1, true, request("GET", "/hang", "localhost"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests().size() == 1);
    h2.headers(1, true, fields("x-late", "1"));
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(STREAM_CLOSED);
    assertSiblingServed(3);
  }

  @Test
  void priorityOfWrongLength() throws Exception {
    h2.headers(1, false, request("POST", "/hang", "localhost"));
    h2.frame(RawH2Client.PRIORITY, 0, 1, new byte[] {0, 0, 0, 0});
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(Http2Error.FRAME_SIZE_ERROR.code());
    assertSiblingServed(3);
  }

  @Test
  void windowUpdateOfZeroOnAStream() throws Exception {
    h2.headers(1, false, request("POST", "/hang", "localhost"));
    h2.windowUpdate(1, 0);
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
  }

  @Test
  void streamWindowAboveMaximum() throws Exception {
    h2.headers(1, false, request("POST", "/hang", "localhost"));
    h2.windowUpdate(1, Integer.MAX_VALUE);
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(Http2Error.FLOW_CONTROL_ERROR.code());
    assertSiblingServed(3);
  }

  @Test
  void secondHeadersWithoutEndStream() throws Exception {
    h2.headers(1, false, request("POST", "/bad", "localhost"));
    h2.headers(1, false, fields("x-more", "1"));
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
    assertNoBadRequestComplete();
  }

  @Test
  void streamIdRegressionIsAConnectionError() throws Exception {
    h2.headers(5, true, request("GET", "/first", "localhost"));
    h2.awaitResponse(5);
    h2.headers(3, true, request("GET", "/bad", "localhost"));
    assertThat(h2.awaitGoAway().errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertNoBadRequestComplete();
  }

  @Test
  void headersOnClosedStreamIsAConnectionError() throws Exception {
    h2.headers(1, true, request("GET", "/first", "localhost"));
    h2.awaitResponse(1);
    h2.headers(1, true, request("GET", "/bad", "localhost"));
    assertThat(h2.awaitGoAway().errorCode()).isEqualTo(STREAM_CLOSED);
    assertNoBadRequestComplete();
  }

  /** Frames the client sent before it saw the proxy's reset are expected (§5.1 closed): not a connection error. */
  @Test
  void dataAfterTheProxyResetTheStreamKeepsTheConnection() throws Exception {
    List<String[]> fields = request("POST", "/bad", "localhost");
    fields.add(new String[] {"content-length", "3"});
    h2.headers(1, false, fields);
    h2.data(1, false, "hello");
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    h2.data(1, true, "late");
    assertSiblingServed(3);
  }

  /** After the client's own RST_STREAM a frame on the stream is a stream error STREAM_CLOSED (§5.1 closed). */
  @Test
  void headersAfterTheClientResetTheStreamIsAStreamError() throws Exception {
    h2.headers(1, false, request("POST", "/hang", "localhost"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 1);
    h2.rstStream(1, (int) Http2Error.CANCEL.code());
    h2.headers(1, true, fields("x-late", "1"));
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(STREAM_CLOSED);
    assertSiblingServed(3);
  }

  /** A connection error ends every exchange of the connection, the upstream side included. */
  @Test
  void connectionErrorEndsExchangesOfOtherStreams() throws Exception {
    h2.headers(1, true, request("GET", "/hang", "localhost"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 1);
    h2.windowUpdate(0, 0); // §6.9: a zero increment on the connection is a connection error
    assertThat(h2.awaitGoAway().errorCode()).isEqualTo(PROTOCOL_ERROR);
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 0);
  }

  // --- well-formed requests still work ---

  @Test
  void bodyAndTrailersAreForwarded() throws Exception {
    origin.respond(head -> Reply.echo());
    List<String[]> fields = request("POST", "/echo", "localhost");
    fields.add(new String[] {"te", "trailers"});
    fields.add(new String[] {"content-length", "11"});
    h2.headers(1, false, fields);
    h2.data(1, false, "hello ");
    h2.data(1, false, "world");
    h2.headers(1, true, fields("x-checksum", "abc"));
    RawH2Client.Response response = h2.awaitResponse(1);
    assertThat(response.status()).isEqualTo("200");
    assertThat(response.body()).isEqualTo("hello world");
    RecordedRequest forwarded = origin.lastRequest();
    assertThat(forwarded.complete()).isTrue();
    assertThat(forwarded.bodyAsString()).isEqualTo("hello world");
  }

  /** Without content-length the body goes chunked to the upstream, and the trailers with it. */
  @Test
  void bodyWithoutContentLengthIsForwardedWithItsTrailers() throws Exception {
    origin.respond(head -> Reply.echo());
    h2.headers(1, false, request("POST", "/echo", "localhost"));
    h2.data(1, false, "hello ");
    h2.data(1, false, "world");
    h2.headers(1, true, fields("x-checksum", "abc"));
    RawH2Client.Response response = h2.awaitResponse(1);
    assertThat(response.status()).isEqualTo("200");
    assertThat(response.body()).isEqualTo("hello world");
    RecordedRequest forwarded = origin.lastRequest();
    assertThat(forwarded.complete()).isTrue();
    assertThat(forwarded.trailers().get("x-checksum")).isEqualTo("abc");
  }

  /** §8.1: an informational response is a HEADERS without END_STREAM; the final one follows on the stream. */
  @Test
  void earlyHintsLeaveTheStreamOpenForTheResponse() throws Exception {
    origin.respond(head -> Reply.ok().body("done").informational(103, "Link", "</a.css>; rel=preload"));
    h2.headers(1, true, request("GET", "/hints", "localhost"));
    RawH2Client.Frame hints = h2.awaitFrame(f -> f.type() == RawH2Client.HEADERS && f.streamId() == 1);
    assertThat(hints.headers().status().toString()).isEqualTo("103");
    assertThat(hints.headers().get("link").toString()).isEqualTo("</a.css>; rel=preload");
    assertThat(hints.endStream()).isFalse();
    RawH2Client.Response response = h2.awaitResponse(1);
    assertThat(response.status()).isEqualTo("200");
    assertThat(response.body()).isEqualTo("done");
  }

  /** Several cookie fields reach an HTTP/1.1 upstream as one, joined with "; " (§8.2.3). */
  @Test
  void cookieFieldsAreJoinedForTheUpstream() throws Exception {
    List<String[]> fields = request("GET", "/cookies", "localhost");
    fields.add(new String[] {"cookie", "a=1"});
    fields.add(new String[] {"x-between", "y"});
    fields.add(new String[] {"cookie", "b=2"});
    h2.headers(1, true, fields);
    assertThat(h2.awaitResponse(1).status()).isEqualTo("200");
    RecordedRequest forwarded = origin.lastRequest();
    assertThat(forwarded.headers().getAll("cookie")).containsExactly("a=1; b=2");
    assertThat(forwarded.headers().get("host")).isEqualTo("localhost");
    assertThat(forwarded.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2-"));
  }

  /**
   * A local reply to a stream whose client is still sending ends it lingering (its input read and
   * dropped, then a reset after {@code Downstream.LINGER_MILLIS}); a reset must never cut a
   * reply that still waits for the client's flow-control window (§6.9): it comes once the window
   * opens, however long after the linger time.
   */
  @Test
  void aLingeringStreamIsNotResetWhileItsReplyWaitsForTheClientsWindow() throws Exception {
    h2.frame(RawH2Client.SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0, 0}); // SETTINGS_INITIAL_WINDOW_SIZE = 0
    List<String[]> upload = request("POST", "/upload", "localhost");
    upload.add(new String[] {"content-length", "20000000"}); // over maxBodyBytes (10 MiB): 413 at once
    h2.headers(1, false, upload);
    Thread.sleep(3000); // past the linger time (2 s): the 413's body still waits for a window
    h2.windowUpdate(1, 65535);
    RawH2Client.Response reply = h2.awaitResponse(1);
    assertThat(reply.status()).isEqualTo("413");
    assertThat(reply.body()).isNotEmpty();
    assertThat(origin.requests()).isEmpty();
  }

  /**
   * A lingering stream reads on what its client still sends, one DATA after the other, and gives
   * the window back (§6.9): a client that goes on sending its upload after the 413, in window-sized
   * steps, is never held up by a window that does not open, and its connection serves on.
   */
  @Test
  void aLingeringStreamGivesTheWindowBackAsTheClientGoesOnSending() throws Exception {
    List<String[]> upload = request("POST", "/upload", "localhost");
    upload.add(new String[] {"content-length", "20000000"}); // over maxBodyBytes (10 MiB): 413 at once
    h2.headers(1, false, upload);
    assertThat(h2.awaitResponse(1).status()).isEqualTo("413");
    byte[] part = new byte[16_384];
    for (int step = 0; step < 4; step++) { // 4 x 48 KiB: three times the stream's initial window
      for (int i = 0; i < 3; i++) {
        h2.frame(RawH2Client.DATA, 0, 1, part);
      }
      h2.awaitFrame(f -> f.type() == RawH2Client.WINDOW_UPDATE && f.streamId() == 1);
    }
    h2.headers(3, true, request("GET", "/after", "localhost"));
    assertThat(h2.awaitResponse(3).status()).isEqualTo("200");
    assertThat(origin.requests()).hasSize(1);
  }

  /**
   * §6.9.2: the connection's window starts at 65,535 bytes whatever SETTINGS say. The server opens it
   * to every stream's window at once (a WINDOW_UPDATE on stream 0 after its SETTINGS), so a client may
   * send full windows on several streams together: four 60,000-byte uploads sent at once, 240,000
   * bytes before any acknowledgement, are all served. With the initial window alone the same bytes
   * overflow it and the streams past it are reset (seen: RST_STREAM on the second stream).
   */
  @Test
  void theConnectionWindowTakesEveryStreamsWindowAtOnce() throws Exception {
    RawH2Client.Frame update = h2.awaitFrame(f -> f.type() == RawH2Client.WINDOW_UPDATE && f.streamId() == 0);
    long increment = java.nio.ByteBuffer.wrap(update.payload()).getInt() & 0x7fffffffL;
    assertThat(increment).isEqualTo(256L * 65_535 - 65_535);
    byte[] body = new byte[60_000];
    java.util.Arrays.fill(body, (byte) 'u');
    java.io.ByteArrayOutputStream frames = new java.io.ByteArrayOutputStream();
    for (int stream = 1; stream <= 7; stream += 2) {
      List<String[]> upload = request("POST", "/upload", "localhost");
      upload.add(new String[] {"content-length", String.valueOf(body.length)});
      frames.write(RawH2Client.encode(RawH2Client.HEADERS, RawH2Client.END_HEADERS, stream, RawH2Client.headerBlock(upload)));
      for (int from = 0; from < body.length; from += 16_384) { // DATA frames of the default maximum size
        byte[] part = java.util.Arrays.copyOfRange(body, from, Math.min(body.length, from + 16_384));
        boolean last = from + 16_384 >= body.length;
        frames.write(RawH2Client.encode(RawH2Client.DATA, last ? RawH2Client.END_STREAM : 0, stream, part));
      }
    }
    h2.write(frames.toByteArray());
    java.util.Map<Integer, String> statuses = new java.util.TreeMap<>(); // the responses interleave
    java.util.Set<Integer> ended = new java.util.HashSet<>();
    while (ended.size() < 4) {
      // Not the WINDOW_UPDATEs the server sends as it reads the bodies
      RawH2Client.Frame frame = h2.awaitFrame(f -> f.type() == RawH2Client.HEADERS || f.type() == RawH2Client.DATA
          || f.type() == RawH2Client.RST_STREAM || f.type() == RawH2Client.GOAWAY);
      assertThat(frame.type()).as("%s", frame).isIn(RawH2Client.HEADERS, RawH2Client.DATA);
      if (frame.type() == RawH2Client.HEADERS) {
        statuses.put(frame.streamId(), frame.headers().status().toString());
      }
      if (frame.endStream()) {
        ended.add(frame.streamId());
      }
    }
    assertThat(statuses).containsOnlyKeys(1, 3, 5, 7).allSatisfy((stream, status) -> assertThat(status).isEqualTo("200"));
    await().atMost(java.time.Duration.ofSeconds(5)).until(() -> origin.requests().size() == 4);
    assertThat(origin.requests()).allSatisfy(r -> assertThat(r.bodyLength()).isEqualTo(body.length));
  }

  private void assertRefusedAndSiblingServed(List<String[]> fields, boolean endStream) throws Exception {
    h2.headers(1, endStream, fields);
    assertThat(h2.awaitReset(1).errorCode()).isEqualTo(PROTOCOL_ERROR);
    assertSiblingServed(3);
    assertNoBadRequestComplete();
    assertThat(origin.requests()).extracting(RecordedRequest::uri).containsExactly("/good");
  }

  /** A well-formed request on another stream of the same connection gets its 200. */
  private void assertSiblingServed(int streamId) throws Exception {
    h2.headers(streamId, true, request("GET", "/good", "localhost"));
    assertThat(h2.awaitResponse(streamId).status()).isEqualTo("200");
  }

  private void assertNoBadRequestComplete() {
    assertThat(origin.requests()).filteredOn(r -> !r.uri().equals("/good") && !r.uri().equals("/first"))
        .allSatisfy(r -> assertThat(r.complete()).isFalse());
  }
}
