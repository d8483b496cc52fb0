package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The stream codec on its own: frames to HTTP/1 objects and back, on one shared instance. */
class Http2StreamCodecTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(Http2StreamCodec.INSTANCE);

  @AfterEach
  void finish() {
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  @Test
  void requestEndingWithItsHeadersIsAHeadAndAnEmptyLastPart() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/a?b").add("accept", "*/*"), true));
    HttpRequest head = channel.readInbound();
    assertThat(head.method().name()).isEqualTo("GET");
    assertThat(head.uri()).isEqualTo("/a?b");
    assertThat(head.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(head.headers().getAll("host")).containsExactly("example.com");
    assertThat(head.headers().get("accept")).isEqualTo("*/*");
    assertThat(head.headers().names()).noneMatch(n -> n.startsWith(":") || n.startsWith("x-http2-"));
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
    LastHttpContent last = channel.readInbound();
    assertThat(last.content().isReadable()).isFalse();
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void bodyWithoutContentLengthIsChunkedAndDataArePartsOfIt() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up"), false));
    HttpRequest head = channel.readInbound();
    assertThat(head.headers().get("transfer-encoding")).isEqualTo("chunked");
    channel.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("ab", StandardCharsets.US_ASCII), false));
    channel.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("c", StandardCharsets.US_ASCII), true));
    HttpContent part = channel.readInbound();
    assertThat(part).isNotInstanceOf(LastHttpContent.class);
    assertThat(part.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ab");
    part.release();
    LastHttpContent last = channel.readInbound();
    assertThat(last.content().toString(StandardCharsets.US_ASCII)).isEqualTo("c");
    last.release();
  }

  @Test
  void bodyWithContentLengthKeepsIt() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up").add("content-length", "3"), false));
    HttpRequest head = channel.readInbound();
    assertThat(head.headers().get("content-length")).isEqualTo("3");
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
  }

  @Test
  void trailersBecomeTheLastPart() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(request("POST", "/up"), false));
    channel.readInbound();
    channel.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().add("x-sum", "1"), true));
    LastHttpContent last = channel.readInbound();
    assertThat(last.trailingHeaders().get("x-sum")).isEqualTo("1");
  }

  @Test
  void connectTargetsItsAuthority() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers().method("CONNECT").authority("example.com:443"), false));
    HttpRequest head = channel.readInbound();
    assertThat(head.uri()).isEqualTo("example.com:443");
    assertThat(head.headers().get("host")).isEqualTo("example.com:443");
  }

  @Test
  void hostEqualToAuthorityIsKeptOnce() {
    channel.writeInbound(new DefaultHttp2HeadersFrame(request("GET", "/").add("host", "EXAMPLE.com"), true));
    HttpRequest head = channel.readInbound();
    assertThat(head.headers().getAll("host")).containsExactly("example.com");
    channel.readInbound();
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
    channel.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    channel.writeOutbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII)));
    Http2HeadersFrame headers = channel.readOutbound();
    assertThat(headers.headers().status().toString()).isEqualTo("200");
    assertThat(headers.isEndStream()).isFalse();
    Http2DataFrame data = channel.readOutbound();
    assertThat(data.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ok");
    assertThat(data.isEndStream()).isTrue();
    data.release();
  }

  @Test
  void informationalResponseNeverEndsTheStream() {
    channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)));
    Http2HeadersFrame headers = channel.readOutbound();
    assertThat(headers.headers().status().toString()).isEqualTo("103");
    assertThat(headers.isEndStream()).isFalse();
  }

  @Test
  void bodilessFullResponseIsOneHeadersEndingTheStream() {
    channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT));
    Http2HeadersFrame headers = channel.readOutbound();
    assertThat(headers.isEndStream()).isTrue();
    assertThat((Object) channel.readOutbound()).isNull();
  }

  private static Http2Headers request(String method, String path) {
    return new DefaultHttp2Headers().method(method).scheme("https").path(path).authority("example.com");
  }

  private static List<Map.Entry<String, String>> entries(Http2Headers headers) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    headers.forEach(e -> out.add(Map.entry(e.getKey().toString(), e.getValue().toString())));
    return out;
  }
}
