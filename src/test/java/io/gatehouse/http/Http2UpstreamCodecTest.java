package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP/1 messages of the relay as HTTP/2 frames on an upstream stream, and back. */
class Http2UpstreamCodecTest {
  private final List<Throwable> errors = new ArrayList<>();
  private final EmbeddedChannel stream = new EmbeddedChannel(new Http2UpstreamCodec(false), new ChannelInboundHandlerAdapter() {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      errors.add(cause);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.fireChannelRead(msg); // to the channel's inbound queue
    }
  });

  @Test
  void a_bodiless_request_is_one_headers_frame_that_ends_the_stream() {
    HttpRequest get = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/a?b=c");
    get.headers().set("Host", "site.test").set("Connection", "keep-alive").set("Keep-Alive", "5")
        .set("X-Custom", "V").add("Cookie", "a=1");
    stream.writeOutbound(get, LastHttpContent.EMPTY_LAST_CONTENT);
    Http2HeadersFrame headers = stream.readOutbound();
    assertThat(headers.isEndStream()).isTrue();
    assertThat(headers.headers().method().toString()).isEqualTo("GET");
    assertThat(headers.headers().scheme().toString()).isEqualTo("http");
    assertThat(headers.headers().authority().toString()).isEqualTo("site.test");
    assertThat(headers.headers().path().toString()).isEqualTo("/a?b=c");
    assertThat(headers.headers().get("x-custom").toString()).isEqualTo("V");
    assertThat(headers.headers().get("cookie").toString()).isEqualTo("a=1");
    assertThat(headers.headers().contains("connection")).isFalse();
    assertThat(headers.headers().contains("keep-alive")).isFalse();
    assertThat(headers.headers().contains("host")).isFalse();
    assertThat((Object) stream.readOutbound()).isNull(); // the empty end is no frame
  }

  @Test
  void an_absolute_form_target_becomes_path_and_authority() {
    stream.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://origin.test:8080/x?y"));
    Http2HeadersFrame headers = stream.readOutbound();
    assertThat(headers.headers().path().toString()).isEqualTo("/x?y");
    assertThat(headers.headers().authority().toString()).isEqualTo("origin.test:8080");
  }

  @Test
  void a_body_is_data_frames_and_trailers_a_last_headers() {
    HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/up");
    post.headers().set("Host", "h").set("Transfer-Encoding", "chunked");
    LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer("end", StandardCharsets.US_ASCII));
    last.trailingHeaders().set("X-Checksum", "42");
    stream.writeOutbound(post, new DefaultHttpContent(Unpooled.copiedBuffer("part", StandardCharsets.US_ASCII)), last);
    Http2HeadersFrame head = stream.readOutbound();
    assertThat(head.isEndStream()).isFalse();
    assertThat(head.headers().contains("transfer-encoding")).isFalse();
    Http2DataFrame part = stream.readOutbound();
    assertThat(part.content().toString(StandardCharsets.US_ASCII)).isEqualTo("part");
    assertThat(part.isEndStream()).isFalse();
    part.release();
    Http2DataFrame end = stream.readOutbound();
    assertThat(end.content().toString(StandardCharsets.US_ASCII)).isEqualTo("end");
    assertThat(end.isEndStream()).isFalse();
    end.release();
    Http2HeadersFrame trailers = stream.readOutbound();
    assertThat(trailers.isEndStream()).isTrue();
    assertThat(trailers.headers().get("x-checksum").toString()).isEqualTo("42");
  }

  @Test
  void response_frames_become_the_relays_messages() {
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("103").add("link", "</a>")));
    HttpResponse interim = stream.readInbound();
    assertThat(interim.status().code()).isEqualTo(103);
    assertThat((Object) stream.readInbound()).isEqualTo(LastHttpContent.EMPTY_LAST_CONTENT);

    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "a/b")));
    HttpResponse head = stream.readInbound();
    assertThat(head.status().code()).isEqualTo(200);
    assertThat(head.headers().get("content-type")).isEqualTo("a/b");
    assertThat(head).isNotInstanceOf(HttpContent.class);

    stream.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII)));
    HttpContent part = stream.readInbound();
    assertThat(part).isNotInstanceOf(LastHttpContent.class);
    assertThat(part.content().toString(StandardCharsets.US_ASCII)).isEqualTo("body");
    part.release();

    stream.writeInbound(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers().add("grpc-status", "0").add("via", "1.1 evil").add("www-authenticate", "Basic"), true));
    LastHttpContent last = stream.readInbound();
    assertThat(last.trailingHeaders().get("grpc-status")).isEqualTo("0");
    assertThat(last.trailingHeaders().names()).as("RFC 9110 §6.5.1, TrailerFields").containsExactly("grpc-status");
  }

  @Test
  void a_response_that_ends_with_its_headers_is_whole_and_framed() {
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("grpc-status", "5"), true));
    FullHttpResponse whole = stream.readInbound();
    assertThat(whole.headers().get("grpc-status")).isEqualTo("5");
    assertThat(whole.headers().get("content-length")).isEqualTo("0"); // an HTTP/1.1 client needs the body's end
    whole.release();
  }

  @Test
  void no_length_is_added_to_the_answer_to_head() {
    stream.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/"));
    ((Http2HeadersFrame) stream.readOutbound()).headers();
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200"), true));
    FullHttpResponse whole = stream.readInbound();
    assertThat(whole.headers().contains("content-length")).isFalse();
    whole.release();
  }

  @Test
  void date_and_via_of_an_http2_response_are_noted_as_an_http1_parse_notes_them() {
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).status("200")
        .add("date", "Fri, 04 Dec 2026 19:00:00 GMT").add("via", "2 origin-side").add("content-length", "0"), true));
    UpstreamResponse response = stream.readInbound();
    assertThat(response.hasDate()).isTrue();
    assertThat(response.forwardByRanges(UpstreamResponse.ADD_VIA)).isFalse(); // Via is appended to, through the headers
    io.netty.util.ReferenceCountUtil.release(response);
  }

  @Test
  void the_response_head_is_the_one_an_http1_upstream_gives_and_goes_on_by_ranges() {
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers(false).status("404")
        .add("content-type", "text/plain").add("content-length", " 12").add("x-multi", "a").add("x-multi", "b \t")));
    HttpResponse head = stream.readInbound();
    assertThat(head).isInstanceOf(UpstreamResponse.class).isNotInstanceOf(HttpContent.class);
    UpstreamResponse response = (UpstreamResponse) head;
    assertThat(response.status().code()).isEqualTo(404);
    assertThat(response.status().reasonPhrase()).isEqualTo("Not Found");
    assertThat(response.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    assertThat(response.hopByHopFlags() & HopByHop.CONTENT_LENGTH).isNotZero();
    assertThat(response.hasDate()).isFalse(); // the relay adds one
    assertThat(response.forwardByRanges(UpstreamResponse.ADD_VIA)).isTrue(); // no Via to append to, no header objects made
    assertThat(response.headers().get("content-length")).isEqualTo("12");
    assertThat(response.headers().getAll("x-multi")).containsExactly("a", "b");
    assertThat(response.headers().get("content-type")).isEqualTo("text/plain");
  }

  @Test
  void response_fields_an_http1_head_cannot_carry_are_malformed() {
    for (io.netty.handler.codec.http2.Http2Headers fields : List.<io.netty.handler.codec.http2.Http2Headers>of(
        new DefaultHttp2Headers(false).add("x-split", "a\r\nx-injected: 1"),
        new DefaultHttp2Headers(false).add("x-nul", "a\u0000b"),
        new DefaultHttp2Headers(false).add("bad name", "v"),
        new DefaultHttp2Headers(false).add("content-length", "1").add("content-length", "1"),
        new DefaultHttp2Headers(false).add("content-length", "-1"),
        new DefaultHttp2Headers(false).add("transfer-encoding", "chunked"),
        new DefaultHttp2Headers(false).add("connection", "close"))) {
      EmbeddedChannel s = new EmbeddedChannel(new Http2UpstreamCodec(false));
      s.writeInbound(new DefaultHttp2HeadersFrame(fields.status("200")));
      HttpResponse bad = s.readInbound();
      assertThat(bad.decoderResult().isFailure()).as(fields.toString()).isTrue();
      assertThat(bad.status().code()).isEqualTo(502);
      s.finishAndReleaseAll();
    }
  }

  /**
   * HPACK carries any octet; an interim response or a trailer section goes to an HTTP/1.1 client as
   * lines of its own, so a CR, LF or NUL there is refused as in the final head: an interim response
   * is a 502; trailers come after the head went on, so the response is cut (the stream closes).
   */
  @Test
  void interim_and_trailer_values_an_http1_head_cannot_carry_are_refused() {
    EmbeddedChannel interim = new EmbeddedChannel(new Http2UpstreamCodec(false));
    interim.writeInbound(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers(false).status("103").add("link", "</a>\r\nset-cookie: injected=1")));
    HttpResponse bad = interim.readInbound();
    assertThat(bad.decoderResult().isFailure()).isTrue();
    assertThat(bad.status().code()).isEqualTo(502);
    interim.finishAndReleaseAll();

    EmbeddedChannel trailers = new EmbeddedChannel(new Http2UpstreamCodec(false));
    trailers.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
    assertThat((Object) trailers.readInbound()).isInstanceOf(HttpResponse.class);
    trailers.writeInbound(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers(false).add("grpc-status", "0\r\nx-injected: 1"), true));
    assertThat((Object) trailers.readInbound()).as("no trailers passed on").isNull();
    assertThat(trailers.isOpen()).as("the stream is cut").isFalse();
    trailers.finishAndReleaseAll();
  }

  @Test
  void a_response_without_a_valid_status_is_malformed() {
    stream.writeInbound(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("2x0")));
    HttpResponse bad = stream.readInbound();
    assertThat(bad.decoderResult().isFailure()).isTrue();
  }

  @Test
  void data_before_the_response_head_is_malformed() {
    stream.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII)));
    HttpResponse bad = stream.readInbound();
    assertThat(bad.decoderResult().isFailure()).isTrue();
  }

  @Test
  void a_refused_stream_is_told_unprocessed_when_it_closes_and_a_reset_one_is_not() {
    stream.pipeline().fireUserEventTriggered(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM));
    assertThat(errors).isEmpty(); // not while the stream is still open
    stream.close();
    assertThat(errors).hasSize(1).first().isInstanceOf(Http2UpstreamCodec.Unprocessed.class);

    List<Throwable> seen = new ArrayList<>();
    EmbeddedChannel other = new EmbeddedChannel(new Http2UpstreamCodec(true), new ChannelInboundHandlerAdapter() {
      @Override
      public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        seen.add(cause);
      }
    });
    other.pipeline().fireUserEventTriggered(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
    other.close();
    assertThat(seen).isEmpty();
  }
}
