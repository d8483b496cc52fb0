package io.gatehouse.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of every upstream pipeline ({@code HttpClientCodec -> UpstreamHandler}): passes
 * events to the exchange that currently owns the connection. A pooled, idle connection has no
 * exchange; anything it receives then is a protocol error and the connection is closed.
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  /** Owner of the connection; set and cleared on the channel's event loop only, so a plain field. */
  private HttpExchange exchange;

  void attach(HttpExchange exchange) {
    this.exchange = exchange;
  }

  void detach() {
    this.exchange = null;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (exchange == null) {
      ReferenceCountUtil.release(msg);
      ctx.close(); // data on an idle connection: the stream is out of sync
      return;
    }
    exchange.onUpstreamRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.onUpstreamWritabilityChanged();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (exchange != null) {
      exchange.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    HttpExchange owner = exchange;
    ctx.close();
    if (owner != null) {
      owner.onUpstreamClosed(cause);
    }
  }
}
