package io.gatehouse.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of every upstream pipeline ({@code HttpClientCodec -> UpstreamHandler}): passes
 * events to the attempt's try ({@link UpstreamAttempt}) that currently owns the connection. A
 * pooled, idle connection has no owner; anything it receives then is a protocol error and the
 * connection is closed.
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  /** Owner of the connection; set and cleared on the channel's event loop only, so a plain field. */
  private UpstreamAttempt attempt;

  void attach(UpstreamAttempt attempt) {
    this.attempt = attempt;
  }

  void detach() {
    this.attempt = null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (attempt == null) {
      ReferenceCountUtil.release(msg);
      ctx.close(); // data on an idle connection: the stream is out of sync
      return;
    }
    attempt.onUpstreamRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (attempt != null) {
      attempt.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (attempt != null) {
      attempt.onUpstreamWritabilityChanged();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (attempt != null) {
      attempt.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    UpstreamAttempt owner = attempt;
    ctx.close();
    if (owner != null) {
      owner.onUpstreamClosed(cause);
    }
  }
}
