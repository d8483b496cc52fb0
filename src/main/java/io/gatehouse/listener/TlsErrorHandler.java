package io.gatehouse.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;

/**
 * Sits right behind the TLS handler ({@code tls -> tls-errors -> ...}): a failed handshake is
 * reported once to {@link ConnectionErrors} and the TLS exception that comes with it stops here
 * (the channel closes) instead of travelling on to Netty's tail, which logs a stack trace.
 * Other events and exceptions pass through untouched.
 */
final class TlsErrorHandler extends ChannelInboundHandlerAdapter {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  private final ConnectionErrors errors;
  /** Event-loop confined: set by the handshake completion event. */
  private boolean handshakeDone;

  TlsErrorHandler(ConnectionErrors errors) {
    this.errors = errors;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent done) {
      handshakeDone = true;
      if (!done.isSuccess()) {
        errors.tlsHandshakeFailed(ctx.channel(), done.cause());
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (!isTls(cause)) {
      super.exceptionCaught(ctx, cause);
      return;
    }
    if (handshakeDone) {
      errors.protocolError(ctx.channel(), "tls", cause); // a bad record after the handshake
    }
    // Before the handshake completes, the failure event reports it (it follows this exception).
    ctx.close();
  }

  private static boolean isTls(Throwable cause) {
    return cause instanceof SSLException
        || cause instanceof DecoderException && cause.getCause() instanceof SSLException;
  }
}
