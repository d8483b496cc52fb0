package io.gatehouse.listener;

import io.gatehouse.http.StrictHttp2FrameCodec;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Exception;

/**
 * Last on an HTTP/2 connection ({@code h2-codec -> h2-streams -> h2-errors}). The frame codec
 * answers a connection error the client caused with GOAWAY (RFC 9113 §5.4.1) and reports it as a
 * {@link StrictHttp2FrameCodec.ClientConnectionError} event; here it is counted and logged in one
 * rate-limited line. A bad client preface (RFC 9113 §3.4) is the usual one. An HTTP/2 exception
 * that still arrives as an exception is handled the same way instead of reaching Netty's tail,
 * which logs a stack trace.
 */
final class Http2ErrorHandler extends ChannelInboundHandlerAdapter {
  private final ConnectionErrors errors;

  Http2ErrorHandler(ConnectionErrors errors) {
    this.errors = errors;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof StrictHttp2FrameCodec.ClientConnectionError error) {
      errors.protocolError(ctx.channel(), "h2", error.cause()); // the codec already sent GOAWAY and closes
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (isHttp2(cause)) {
      errors.protocolError(ctx.channel(), "h2", cause);
      ctx.close();
    } else if (cause instanceof java.io.IOException) {
      ctx.close(); // a reset by the client is routine, as on HTTP/1.1
    } else {
      super.exceptionCaught(ctx, cause);
    }
  }

  /** An {@link Http2Exception}, possibly wrapped. */
  private static boolean isHttp2(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Http2Exception) {
        return true;
      }
    }
    return false;
  }
}
