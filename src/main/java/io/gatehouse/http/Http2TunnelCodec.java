package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2HeadersFrame;

/**
 * The {@code http-codec} of an HTTP/2 stream that carries a CONNECT (RFC 9113 §8.5): it makes the
 * stream look like a socket to the tunnel relay. {@link Http2StreamCodec} puts it in its own place
 * when it reads the CONNECT's HEADERS, so every DATA frame after them reaches the proxy as the raw
 * bytes they carry, in order, whether the tunnel is open yet or not (the client may send before the
 * 2xx; RFC 9110 §9.3.6).
 *
 * <ul>
 *   <li>in: DATA to their content; END_STREAM to an empty {@link LastHttpContent} (the request's
 *       end, for HTTP handlers) and {@link ChannelInputShutdownEvent}, the end of the client's input
 *       (§8.5: the half-close) for the relay; HEADERS (trailers) are not allowed on a connected
 *       stream (§8.5), a stream error PROTOCOL_ERROR. A RST_STREAM reaches the stream's pipeline as
 *       Netty's user event and closes its channel.
 *   <li>out: raw bytes to DATA; anything else (the response before the tunnel, the END_STREAM the
 *       relay writes) as {@link Http2StreamCodec} writes it.
 * </ul>
 *
 * The stream's flow control follows the reads: Netty returns a DATA frame's bytes to the client's
 * window when the channel is asked to read again, which the relay does only while the upstream
 * takes more. Stateless; one instance for every stream.
 */
@ChannelHandler.Sharable
public final class Http2TunnelCodec extends ChannelDuplexHandler {
  public static final Http2TunnelCodec INSTANCE = new Http2TunnelCodec();

  private Http2TunnelCodec() {}

  /** {@code @Sharable}, as a constant: Netty asks at every add (a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2DataFrame data) {
      ByteBuf content = data.content();
      if (content.isReadable()) {
        ctx.fireChannelRead(content);
      } else {
        content.release();
      }
      if (data.isEndStream()) {
        endOfInput(ctx);
      }
    } else if (msg instanceof Http2HeadersFrame) {
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
      ctx.close();
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  /**
   * The client's END_STREAM: the end of the CONNECT request for whoever reads HTTP messages (an
   * empty last content, which a relay drops), then the end of the client's input for the relay.
   */
  static void endOfInput(ChannelHandlerContext ctx) {
    ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
    ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf bytes) {
      ctx.write(new DefaultHttp2DataFrame(bytes, false), promise);
    } else {
      Http2StreamCodec.INSTANCE.write(ctx, msg, promise);
    }
  }
}
