package io.gatehouse.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2Exception;

/**
 * Last on an HTTP/2 connection ({@code h2-codec -> h2-streams -> h2-errors}). The frame codec
 * already answered a connection error with GOAWAY (RFC 9113 §5.4.1) and then passes the
 * exception on for information; here it is counted and logged in one line instead of reaching
 * Netty's tail, which logs a stack trace. A bad client preface (RFC 9113 §3.4) is the usual one.
 */
final class Http2ErrorHandler extends ChannelInboundHandlerAdapter {
  private final ConnectionErrors errors;

  Http2ErrorHandler(ConnectionErrors errors) {
    this.errors = errors;
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
