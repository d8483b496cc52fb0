package io.gatehouse.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Delivers decoded messages one per {@code read()}, on a channel whose autoRead is off: the proxy
 * handler asks for each message it wants, and anything decoded beyond that waits here (a pipelined
 * next request, or what a read-ahead brought in).
 *
 * <p>Why not Netty's {@code FlowControlHandler}: in Netty 4.2 it forgets an unsatisfied read at
 * every read-complete, so when a request head arrives in two segments (or a TLS record brings no
 * application data) the demand is lost and the connection stalls. Here a demand stays until a
 * message satisfies it, and a read-complete that left it unsatisfied asks the socket again.
 * Event-loop confined: plain fields.
 *
 * <p>Pipeline: {@code http-codec -> flow-control (this) -> proxy}.
 */
public final class OnDemandReader extends ChannelDuplexHandler {
  private final ArrayDeque<Object> queue = new ArrayDeque<>(2);
  private boolean demand;

  @Override
  public void read(ChannelHandlerContext ctx) {
    Object next = queue.poll();
    if (next != null) {
      ctx.fireChannelRead(next);
      return;
    }
    demand = true;
    ctx.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (demand && queue.isEmpty()) {
      demand = false;
      ctx.fireChannelRead(msg);
    } else {
      queue.add(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (demand) {
      ctx.read(); // bytes arrived but no whole message yet: keep reading for it
    }
    ctx.fireChannelReadComplete();
  }

  /** Messages decoded but not yet asked for. */
  public int queued() {
    return queue.size();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseQueued();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseQueued();
  }

  private void releaseQueued() {
    Object msg;
    while ((msg = queue.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
