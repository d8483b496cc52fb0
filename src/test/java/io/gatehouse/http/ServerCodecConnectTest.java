package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** After a CONNECT head the codec decodes nothing more and hands the bytes on when removed. */
class ServerCodecConnectTest {
  @Test
  void bytesAfterConnectAreKeptRawAndHandedOnWhenTheCodecIsRemoved() {
    EmbeddedChannel ch = new EmbeddedChannel(new ServerCodec(8192, 32768));
    ch.writeInbound(Unpooled.copiedBuffer(
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\u0016\u0003\u0001GET / HTTP/1.1\r\n\r\n",
        StandardCharsets.ISO_8859_1));

    HttpRequest request = ch.readInbound();
    assertThat(request.method()).isEqualTo(HttpMethod.CONNECT);
    LastHttpContent last = ch.readInbound();
    last.release();
    assertThat((Object) ch.readInbound()).isNull(); // the tunnel bytes are not parsed as a request

    ch.pipeline().removeFirst();
    ByteBuf raw = ch.readInbound();
    assertThat(raw.toString(StandardCharsets.ISO_8859_1)).isEqualTo("\u0016\u0003\u0001GET / HTTP/1.1\r\n\r\n");
    raw.release();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void otherRequestsKeepBeingDecoded() {
    EmbeddedChannel ch = new EmbeddedChannel(new ServerCodec(8192, 32768));
    ch.writeInbound(Unpooled.copiedBuffer("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\nGET http://b/ HTTP/1.1\r\nHost: b\r\n\r\n",
        StandardCharsets.ISO_8859_1));
    HttpRequest first = ch.readInbound();
    ((LastHttpContent) ch.readInbound()).release();
    HttpRequest second = ch.readInbound();
    ((LastHttpContent) ch.readInbound()).release();
    assertThat(first.uri()).isEqualTo("http://a/");
    assertThat(second.uri()).isEqualTo("http://b/");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
