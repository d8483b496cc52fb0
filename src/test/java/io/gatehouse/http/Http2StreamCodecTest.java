package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stream conversions on their own: a request's HEADERS to the HTTP/1 head the proxy handler
 * reads, trailers to its last part, and responses to frames (what a stream side does with them is
 * {@code relay.Http2StreamSide}'s, tested on a real connection by {@code Http2ConformanceTest}).
 */
class Http2StreamCodecTest {
  /** The frames a response was written as, in order. */
  private final List<Object> written = new ArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final Http2StreamCodec.FrameSink sink = new Http2StreamCodec.FrameSink() {
    @Override
    public void write(Http2StreamFrame frame, ChannelPromise promise) {
      written.add(frame);
      promise.trySuccess();
    }

    @Override
    public ChannelPromise voidPromise() {
      return channel.voidPromise();
    }
  };

  @AfterEach
  void finish() {
    written.forEach(io.netty.util.ReferenceCountUtil::release);
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  private void writeOutbound(Object msg) {
    Http2StreamCodec.encode(msg, channel.newPromise(), sink);
  }

  @SuppressWarnings("unchecked")
  private <T> T readOutbound() {
    return written.isEmpty() ? null : (T) written.remove(0);
  }

  @Test
  void requestIsTheHttp1HeadOfItsFields() {
    HttpRequest head = Http2StreamCodec.request(request("GET", "/a?b").add("accept", "*/*"), true);
    assertThat(head.method().name()).isEqualTo("GET");
    assertThat(head.uri()).isEqualTo("/a?b");
    assertThat(head.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(head.headers().getAll("host")).containsExactly("example.com");
    assertThat(head.headers().get("accept")).isEqualTo("*/*");
    assertThat(head.headers().names()).noneMatch(n -> n.startsWith(":") || n.startsWith("x-http2-"));
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
  }

  @Test
  void bodyWithoutContentLengthIsChunked() {
    HttpRequest head = Http2StreamCodec.request(request("POST", "/up"), false);
    // Framed as chunked for the upstream; as in an HTTP/1 request, the framing field is a fact of the
    // head, which the relay sets again, not a field of the message.
    assertThat(((ClientRequest) head).head().onlyChunked()).isTrue();
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
  }

  @Test
  void bodyWithContentLengthKeepsIt() {
    HttpRequest head = Http2StreamCodec.request(request("POST", "/up").add("content-length", "3"), false);
    assertThat(head.headers().get("content-length")).isEqualTo("3");
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
  }

  @Test
  void trailersBecomeTheLastPart() {
    LastHttpContent last = Http2StreamCodec.trailers(
        new DefaultHttp2Headers().add("x-sum", "1").add("x-forwarded-for", "10.0.0.1").add("authorization", "Basic YTpi"));
    assertThat(last.trailingHeaders().get("x-sum")).isEqualTo("1");
    assertThat(last.trailingHeaders().names()).as("RFC 9110 §6.5.1: no routing or authentication in trailers")
        .containsExactly("x-sum");
  }

  @Test
  void connectTargetsItsAuthority() {
    HttpRequest head = Http2StreamCodec.request(new DefaultHttp2Headers().method("CONNECT").authority("example.com:443"), false);
    assertThat(head.uri()).isEqualTo("example.com:443");
    assertThat(head.headers().get("host")).isEqualTo("example.com:443");
  }

  @Test
  void hostEqualToAuthorityIsKeptOnce() {
    HttpRequest head = Http2StreamCodec.request(request("GET", "/").add("host", "EXAMPLE.com"), true);
    assertThat(head.headers().getAll("host")).containsExactly("example.com");
  }

  /**
   * The request is the HTTP/1 decoder's kind of head, its fields still bytes: it goes upstream by
   * ranges, and the bytes are the HTTP/1.1 head of RFC 9113 §8.3.1 and §8.2.3.
   */
  @Test
  void requestHeadIsTheHttp1HeadAnUpstreamGetsAsBytes() {
    HttpRequest head = Http2StreamCodec.request(request("GET", "/a?b").add("cookie", "a=1").add("accept", "*/*")
        .add("te", "trailers").add("cookie", "b=2").add("x-trail", "v \t").add("trailer", "x-sum")
        .add("x-http2-stream-id", "9"), true);
    assertThat(head).isInstanceOf(ClientRequest.class);
    ClientRequest request = (ClientRequest) head;
    assertThat(request.writesByRanges()).isTrue();
    assertThat(request.get(io.netty.handler.codec.http.HttpHeaderNames.COOKIE)).isEqualTo("a=1; b=2");
    assertThat(request.head().hostCount()).isEqualTo(1);
    assertThat(request.head().contentLength()).isEqualTo(HttpHead.NO_LENGTH);
    assertThat(request.writesByRanges()).isTrue();
    // te is hop-by-hop on the HTTP/1.1 hop (RFC 9110 §7.6.1); trailer and x-http2-* are never taken
    assertThat(written(request)).isEqualTo("GET /a?b HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\n"
        + "x-trail: v \t\r\ncookie: a=1; b=2\r\n\r\n");
  }

  @Test
  void contentLengthIsTheHeadsLength() {
    ClientRequest head = Http2StreamCodec.request(request("PUT", "/up").add("content-length", "12"), false);
    assertThat(head.head().contentLength()).isEqualTo(12);
    assertThat(head.head().hasTransferEncoding()).isFalse();
    assertThat(written(head)).isEqualTo("PUT /up HTTP/1.1\r\nhost: example.com\r\ncontent-length: 12\r\n\r\n");
  }

  /** What HTTP/1 cannot carry is malformed (RFC 9113 §8.1.1): the stream side resets the stream. */
  @Test
  void requestHttp1CannotCarryIsRefused() {
    for (Http2Headers bad : List.of(
        unchecked("GET", "/a b"), unchecked("GET", "/\u00e9"), unchecked("G@T", "/"),
        unchecked("GET", "/").add("x", " leading"), unchecked("GET", "/").add("x", "a\u0001"),
        unchecked("GET", "/").add("x y", "v"), unchecked("GET", "/").add("content-length", "+1"),
        unchecked("GET", "/").add("content-length", "1").add("content-length", "1"),
        unchecked("GET", "/").add("host", "other.example"))) {
      org.assertj.core.api.Assertions.assertThatRuntimeException().as(bad.toString())
          .isThrownBy(() -> Http2StreamCodec.request(bad, true));
    }
  }

  private static String written(ClientRequest request) {
    io.netty.buffer.ByteBuf buf = Unpooled.buffer();
    request.writeHead(buf);
    String s = buf.toString(StandardCharsets.ISO_8859_1);
    buf.release();
    return s;
  }

  /** The fast path gives what Netty's general conversion gives, for the heads a proxy relays. */
  @Test
  void responseHeadersMatchNettysConversion() {
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers().add("Content-Type", "text/plain").add("Content-Length", "3").add("Set-Cookie", "a=1")
        .add("Set-Cookie", "b=2").add("Via", "1.1 gatehouse").add("Host", "x").add("Transfer-Encoding", "chunked")
        .add("Keep-Alive", "timeout=5").add("x-custom", "1");
    assertThat(entries(Http2StreamCodec.responseHeaders(response)))
        .isEqualTo(entries(HttpConversionUtil.toHttp2Headers(response, true)));
    response.headers().add("Connection", "x-custom");
    assertThat(entries(Http2StreamCodec.responseHeaders(response)))
        .isEqualTo(entries(HttpConversionUtil.toHttp2Headers(response, true)))
        .noneMatch(e -> e.getKey().equals("x-custom"));
  }

  @Test
  void responseIsHeadersThenDataEndingTheStream() {
    writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    writeOutbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)));
    Http2HeadersFrame headers = readOutbound();
    assertThat(headers.headers().status().toString()).isEqualTo("200");
    assertThat(headers.isEndStream()).isFalse();
    Http2DataFrame data = readOutbound();
    assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ok");
    assertThat(data.isEndStream()).isTrue();
    data.release();
  }

  /** A response read whole ({@link UpstreamFullResponse}) gives the frames its head and last part give. */
  @Test
  void responseReadWholeIsHeadersThenDataEndingTheStream() throws Exception {
    String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n";
    HeadParser parser = new HeadParser(false, 8192, 65536);
    HttpHead parsed = parser.parse(Unpooled.copiedBuffer(head, StandardCharsets.US_ASCII));
    UpstreamFullResponse whole = new UpstreamFullResponse(parsed, java.util.Arrays.copyOf(parser.headBytes(), parsed.length()),
        Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
    assertThat(whole.forwardByRanges(UpstreamResponse.ADD_VIA)).isTrue();
    writeOutbound(whole);
    Http2HeadersFrame headers = readOutbound();
    assertThat(headers.headers().status().toString()).isEqualTo("200");
    assertThat(headers.headers().get("content-type").toString()).isEqualTo("text/plain");
    assertThat(headers.headers().contains("via")).isTrue();
    assertThat(headers.isEndStream()).isFalse();
    Http2DataFrame data = readOutbound();
    assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ok");
    assertThat(data.isEndStream()).isTrue();
    data.release();
    assertThat(whole.refCnt()).isZero();
  }

  @Test
  void informationalResponseNeverEndsTheStream() {
    writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)));
    Http2HeadersFrame headers = readOutbound();
    assertThat(headers.headers().status().toString()).isEqualTo("103");
    assertThat(headers.isEndStream()).isFalse();
  }

  @Test
  void bodilessFullResponseIsOneHeadersEndingTheStream() {
    writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT));
    Http2HeadersFrame headers = readOutbound();
    assertThat(headers.isEndStream()).isTrue();
    assertThat((Object) readOutbound()).isNull();
  }

  private static Http2Headers request(String method, String path) {
    return new DefaultHttp2Headers().method(method).scheme("https").path(path).authority("example.com");
  }

  /** Fields as a peer may send them: the frame codec's checks are not in this test's pipeline. */
  private static Http2Headers unchecked(String method, String path) {
    return new DefaultHttp2Headers(false).method(method).scheme("https").path(path).authority("example.com");
  }

  private static List<Map.Entry<String, String>> entries(Http2Headers headers) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    headers.forEach(e -> out.add(Map.entry(e.getKey().toString(), e.getValue().toString())));
    return out;
  }
}
