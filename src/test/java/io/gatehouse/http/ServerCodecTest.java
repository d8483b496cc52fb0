package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client-facing codec on its own: strict head checks and request-aware response framing. */
class ServerCodecTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new ServerCodec(1024, 2048));

  @AfterEach
  void finish() {
    assertThat(channel.finishAndReleaseAll()).as("nothing left unread").isFalse();
  }

  private List<Object> feed(String... parts) {
    for (String part : parts) {
      channel.writeInbound(Unpooled.copiedBuffer(part, StandardCharsets.ISO_8859_1));
    }
    List<Object> out = new ArrayList<>();
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add(msg);
    }
    return out;
  }

  private static String failure(List<Object> messages) {
    try {
      assertThat(messages).isNotEmpty();
      HttpRequest request = (HttpRequest) messages.get(0);
      return request.decoderResult().isFailure() ? String.valueOf(request.decoderResult().cause()) : null;
    } finally {
      messages.forEach(ReferenceCountUtil::release);
    }
  }

  @Test
  void clean_request_decodes_even_when_it_trickles_in_byte_by_byte() {
    String request = "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n\r\n";
    String[] bytes = request.split("");
    List<Object> out = feed(bytes);
    assertThat(out).hasSize(2);
    assertThat(((HttpRequest) out.get(0)).decoderResult().isSuccess()).isTrue();
    assertThat(((HttpRequest) out.get(0)).headers().get("X-A")).isEqualTo("b");
    assertThat(out.get(1)).isInstanceOf(LastHttpContent.class);
    out.forEach(ReferenceCountUtil::release);
  }

  @Test
  void leading_empty_lines_are_tolerated() {
    List<Object> out = feed("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(failure(out)).isNull();
  }

  @Test
  void obs_fold_is_refused_not_repaired() {
    assertThat(failure(feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n")))
        .contains("obsolete line folding");
  }

  @Test
  void control_characters_are_refused() {
    assertThat(failure(feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n"))).contains("control character");
    EmbeddedChannel other = new EmbeddedChannel(new ServerCodec(1024, 2048));
    other.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u007fb\r\n\r\n", StandardCharsets.ISO_8859_1));
    HttpRequest request = other.readInbound();
    assertThat(request.decoderResult().isFailure()).isTrue();
    ReferenceCountUtil.release(request);
    other.finishAndReleaseAll();
  }

  @Test
  void after_a_failure_the_rest_of_the_input_is_ignored() {
    List<Object> out = feed("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(out).hasSize(1);
    assertThat(failure(out)).isNotNull();
  }

  @Test
  void pipelined_requests_are_decoded_in_order() {
    List<Object> out = feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    List<String> uris = new ArrayList<>();
    for (Object msg : out) {
      if (msg instanceof HttpRequest request) {
        uris.add(request.uri());
      }
    }
    assertThat(uris).containsExactly("/1", "/2", "/3");
    out.forEach(ReferenceCountUtil::release);
  }

  @Test
  void bad_chunk_size_is_a_failed_content() {
    List<Object> out = feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    try {
      assertThat(((HttpRequest) out.get(0)).decoderResult().isSuccess()).isTrue();
      assertThat(out).anySatisfy(msg -> {
        assertThat(msg).isInstanceOf(HttpContent.class);
        assertThat(((HttpContent) msg).decoderResult().isFailure()).isTrue();
      });
    } finally {
      out.forEach(ReferenceCountUtil::release);
    }
  }

  @Test
  void response_to_head_keeps_content_length_and_sends_no_body() {
    feed("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").forEach(ReferenceCountUtil::release);
    DefaultHttpResponse headResponse = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    headResponse.headers().set(HttpHeaderNames.CONTENT_LENGTH, 10);
    channel.writeOutbound(headResponse, LastHttpContent.EMPTY_LAST_CONTENT);
    DefaultFullHttpResponse getResponse = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
        Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII));
    getResponse.headers().set(HttpHeaderNames.CONTENT_LENGTH, 10);
    channel.writeOutbound(getResponse);
    String wire = drainOutbound();
    assertThat(wire).isEqualTo("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"
        + "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789");
  }

  @Test
  void informational_responses_do_not_consume_the_request_they_precede() {
    feed("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n").forEach(ReferenceCountUtil::release);
    channel.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(103)));
    DefaultHttpResponse headResponse = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    headResponse.headers().set(HttpHeaderNames.CONTENT_LENGTH, 10);
    channel.writeOutbound(headResponse, LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(drainOutbound()).isEqualTo("HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n");
  }

  private String drainOutbound() {
    StringBuilder wire = new StringBuilder();
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      if (msg instanceof ByteBuf buf) {
        wire.append(buf.toString(StandardCharsets.ISO_8859_1));
      }
      ReferenceCountUtil.release(msg);
    }
    return wire.toString();
  }
}
