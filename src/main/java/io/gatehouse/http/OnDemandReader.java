package io.gatehouse.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
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
 * <p>The client's end of input (a half-close, {@link ChannelInputShutdownEvent}) takes its place in
 * the same queue: it reaches the proxy handler only once every request decoded before it was asked
 * for, so pipelined requests sent before the FIN are all answered (RFC 9112 §9.6).
 *
 * <p>Pipeline: {@code http-codec -> flow-control (this) -> proxy}.
 */
public final class OnDemandReader extends ChannelDuplexHandler {
  private final ArrayDeque<Object> queue = new ArrayDeque<>(2);
  private boolean demand;

  /** One per connection. A constant: Netty asks at every add (a per-thread map look-up, ~1% per h2 stream). */
  @Override
  public boolean isSharable() {
    return false;
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    Object next = queue.poll();
    if (next == ChannelInputShutdownEvent.INSTANCE) {
      ctx.fireUserEventTriggered(next);
      return;
    }
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
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt != ChannelInputShutdownEvent.INSTANCE) {
      super.userEventTriggered(ctx, evt);
    } else if (demand && queue.isEmpty()) {
      demand = false;
      ctx.fireUserEventTriggered(evt);
    } else {
      queue.add(evt);
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

  /** Leaving for a tunnel (WebSocket): a half-close seen before still reaches the relay. */
  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (releaseQueued()) {
      ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
  }

  /** Releases what is queued; true when the client's end of input was among it. */
  private boolean releaseQueued() {
    boolean inputEnded = false;
    Object msg;
    while ((msg = queue.poll()) != null) {
      inputEnded |= msg == ChannelInputShutdownEvent.INSTANCE;
      ReferenceCountUtil.release(msg);
    }
    return inputEnded;
  }
}
