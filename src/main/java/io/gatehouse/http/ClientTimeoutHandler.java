package io.gatehouse.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;

/**
 * An HTTP/1 connection's {@link ClientTimeouts} in its pipeline, in front of the HTTP codec where it
 * sees raw bytes: it tells them of the bytes read, the reads the proxy asks for, the connection's
 * writability and its close, counts the bytes written (what the client has taken is what left the
 * outbound buffer of them), fires their events down the pipeline, and closes the connection when
 * its idle time passed.
 *
 * <p>Pipeline: {@code [tls] -> client-timeouts -> http-codec -> flow-control -> proxy}.
 */
public final class ClientTimeoutHandler extends ChannelDuplexHandler {
  private final ClientTimeouts timeouts;
  /** Bytes passed towards the socket; minus those still pending, what the client has taken. */
  private long written;
  private ChannelHandlerContext ctx;

  public ClientTimeoutHandler(ClientTimeouts timeouts) {
    this.timeouts = timeouts;
  }

  /** One per connection. A constant: Netty asks at every add (a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    timeouts.attachConnection(ctx.executor(), () -> ctx.channel().isActive(),
        event -> ctx.pipeline().fireUserEventTriggered(event), this::taken,
        () -> IdleClose.close(ctx)); // FIN, and a reset for a client that cannot see it: it is still reading
    if (ctx.channel().isActive()) {
      timeouts.connectionActive();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    // An accepted connection is active already when its pipeline is built: started then.
    timeouts.connectionActive();
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    timeouts.received(msg);
    super.channelRead(ctx, msg);
  }

  @Override
  public void read(ChannelHandlerContext ctx) throws Exception {
    timeouts.readAsked();
    ctx.read();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    written += ClientTimeouts.size(msg);
    ctx.write(msg, promise);
  }

  private long taken() {
    ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
    return out == null ? written : written - out.totalPendingWriteBytes();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    timeouts.writabilityChanged(ctx.channel().isWritable());
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    timeouts.closed();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    timeouts.closed();
  }
}
