package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link UpstreamCodec} reads a response whose length-delimited body arrived with its head as one
 * {@link UpstreamFullResponse}, and everything else as before: a head, then its parts as they come.
 * Framing itself is the differential fuzzer's ({@code HeadParserFuzzTest}), which reads both shapes.
 */
class UpstreamCodecWholeResponseTest {
  private final EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(8192, 65536));
  private final List<Object> read = new ArrayList<>();

  @AfterEach
  void finish() {
    read.forEach(ReferenceCountUtil::release);
    channel.finishAndReleaseAll();
  }

  @Test
  void bodyThatCameWithItsHeadIsOneMessage() {
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    assertThat(read).hasSize(1);
    UpstreamFullResponse whole = (UpstreamFullResponse) read.get(0);
    assertThat(whole.status().code()).isEqualTo(200);
    assertThat(whole.content().toString(StandardCharsets.US_ASCII)).isEqualTo("hello");
    assertThat(whole.trailingHeaders().isEmpty()).isTrue();
    assertThat(whole.refCnt()).isEqualTo(1);
  }

  @Test
  void bodyStillOnItsWayComesInParts() {
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel");
    receive("lo");
    assertThat(read).hasSize(3);
    assertThat(read.get(0)).isInstanceOf(UpstreamResponse.class).isNotInstanceOf(HttpContent.class);
    assertThat(body(read.get(1))).isEqualTo("hel");
    assertThat(read.get(1)).isNotInstanceOf(LastHttpContent.class);
    assertThat(body(read.get(2))).isEqualTo("lo");
    assertThat(read.get(2)).isInstanceOf(LastHttpContent.class);
  }

  @Test
  void headAloneThenItsBodyIsAHeadAndALastPart() {
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    receive("hello");
    assertThat(read).hasSize(2);
    assertThat(read.get(0)).isNotInstanceOf(HttpContent.class);
    assertThat(read.get(1)).isInstanceOf(LastHttpContent.class);
  }

  @Test
  void pipelinedResponsesInOneReadAreEachWhole() {
    send(HttpMethod.GET);
    send(HttpMethod.GET);
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        + "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nbc"
        + "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nd");
    assertThat(read).hasSize(4);
    assertThat(body(read.get(0))).isEqualTo("a");
    assertThat(((HttpResponse) read.get(1)).status().code()).isEqualTo(404);
    assertThat(body(read.get(1))).isEqualTo("bc");
    assertThat(read.get(2)).isNotInstanceOf(HttpContent.class); // its body is not all here
    assertThat(body(read.get(3))).isEqualTo("d");
  }

  /** RFC 9110 §9.3.2, §15.3.5, §15.4.5: these have no body whatever their Content-Length says. */
  @Test
  void responsesWithoutBodyAreNeverWhole() {
    send(HttpMethod.HEAD);
    send(HttpMethod.GET);
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        + "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assertThat(read).hasSize(5);
    assertThat(read.get(0)).isNotInstanceOf(HttpContent.class);
    assertThat(read.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(read.get(2)).isNotInstanceOf(HttpContent.class);
    assertThat(read.get(3)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    assertThat(body(read.get(4))).isEqualTo("ok");
  }

  @Test
  void chunkedAndCloseDelimitedBodiesComeInParts() {
    send(HttpMethod.GET);
    send(HttpMethod.GET);
    receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        + "HTTP/1.1 200 OK\r\n\r\nuntil close");
    assertThat(read.get(0)).isNotInstanceOf(HttpContent.class);
    assertThat(read).filteredOn(m -> m instanceof UpstreamFullResponse).isEmpty();
  }

  private void send(HttpMethod method) {
    channel.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
    Object out;
    while ((out = channel.readOutbound()) != null) {
      ReferenceCountUtil.release(out);
    }
  }

  private void receive(String bytes) {
    channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      read.add(msg);
    }
  }

  private static String body(Object msg) {
    return ((HttpContent) msg).content().toString(StandardCharsets.ISO_8859_1);
  }
}
