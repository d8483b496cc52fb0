package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Responses the proxy writes itself (errors, denials): a short plain-text body naming the reason. */
public final class LocalReply {
  private LocalReply() {}

  public static FullHttpResponse build(
      ByteBufAllocator alloc, HttpResponseStatus status, String detail, boolean close) {
    String text = status.code() + " " + status.reasonPhrase() + (detail == null ? "" : ": " + detail) + "\n";
    ByteBuf body = alloc.buffer(text.length());
    body.writeCharSequence(text, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
        .set(HttpHeaderNames.DATE, HttpDate.now().value()); // RFC 9110 §6.6.1: the proxy has a clock
    if (close) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    return response;
  }

  /** Writes {@code response}; closes the channel afterwards when the response says so. */
  public static ChannelFuture send(Channel channel, FullHttpResponse response) {
    boolean close = response.headers().contains(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE, true);
    ChannelFuture future = channel.writeAndFlush(response);
    if (close) {
      future.addListener(ChannelFutureListener.CLOSE);
    }
    return future;
  }
}
