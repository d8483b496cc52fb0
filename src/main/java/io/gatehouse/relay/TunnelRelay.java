package io.gatehouse.relay;

import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Relays raw bytes both ways between a client and an upstream channel on the same event loop: a
 * CONNECT tunnel (RFC 9110 §9.3.6) once the HTTP codec is gone.
 *
 * <ul>
 *   <li>backpressure: a side reads only while the other side is writable;
 *   <li>half-close: end of input on one side shuts down output on the other, so protocols that
 *       finish one direction first keep working; when both directions ended, both close;
 *   <li>idle timeout: no byte either way for {@code idleNanos} closes both;
 *   <li>bytes are counted each way and reported once, when both channels are closed.
 * </ul>
 *
 * Both channels need {@link ChannelOption#ALLOW_HALF_CLOSURE}; {@link #start} sets it. All state is
 * confined to the shared event loop, so fields are plain.
 */
public final class TunnelRelay {
  /**
   * Buffering per direction before a side counts as full: larger than an HTTP exchange's, since a
   * tunnel carries bulk bytes and every full/empty flip costs a read-interest change.
   */
  public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(128 * 1024, 512 * 1024);

  /**
   * Reads of a channel that has not read yet (the upstream of a CONNECT): adaptive from 2 KiB, as
   * the default, but growing to 256 KiB instead of 64 KiB when the socket keeps filling them, so a
   * bulk download takes a quarter of the recv(2) calls and its writes carry bigger buffers. A
   * channel that already read keeps the handle Netty made for it (it caches the handle).
   */
  static final AdaptiveRecvByteBufAllocator BULK_READS = new AdaptiveRecvByteBufAllocator(64, 2048, 256 * 1024);

  /** Told once when the tunnel is over. */
  public interface Listener {
    void tunnelClosed(TunnelRelay tunnel);
  }

  private final Side clientSide;
  private final Side upstreamSide;
  private final long idleNanos;
  private final LongSupplier clock;
  private final Listener listener;
  private final long startNanos;
  private long lastActivity;
  private ScheduledFuture<?> idleTimer;
  private boolean idleExpired;
  /** The server's drain deadline ended the tunnel (set just before it closes the client side). */
  private boolean cutAtDrainDeadline;
  private boolean finished;

  private TunnelRelay(Channel client, Channel upstream, long idleNanos, LongSupplier clock, Listener listener) {
    this.clientSide = new Side(client);
    this.upstreamSide = new Side(upstream);
    clientSide.peer = upstreamSide;
    upstreamSide.peer = clientSide;
    this.idleNanos = idleNanos;
    this.clock = clock;
    this.listener = listener;
    this.startNanos = clock.getAsLong();
    this.lastActivity = startNanos;
  }

  /**
   * Installs the relay as the last handler of both pipelines (named {@link PipelineNames#TUNNEL})
   * and starts reading. Must run on the channels' shared event loop. Call before removing the
   * client's HTTP handlers: bytes they still hold then flow into the tunnel.
   */
  public static TunnelRelay start(
      Channel client, Channel upstream, long idleNanos, LongSupplier clock, Listener listener) {
    TunnelRelay relay = new TunnelRelay(client, upstream, idleNanos, clock, listener);
    client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    client.config().setWriteBufferWaterMark(WATER_MARK);
    upstream.config().setWriteBufferWaterMark(WATER_MARK);
    upstream.config().setRecvByteBufAllocator(BULK_READS);
    upstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    client.pipeline().addLast(PipelineNames.TUNNEL, relay.clientSide);
    upstream.pipeline().addLast(PipelineNames.TUNNEL, relay.upstreamSide);
    relay.clientSide.updateReading();
    relay.upstreamSide.updateReading();
    relay.scheduleIdleCheck(idleNanos);
    return relay;
  }

  /** Bytes from the client to the upstream. */
  public long bytesUp() {
    return clientSide.bytesRead;
  }

  /** Bytes from the upstream to the client. */
  public long bytesDown() {
    return upstreamSide.bytesRead;
  }

  public long durationNanos() {
    return clock.getAsLong() - startNanos;
  }

  /** True when a graceful stop's deadline ended the tunnel (logged as {@code drain_deadline}). */
  public boolean cutAtDrainDeadline() {
    return cutAtDrainDeadline;
  }

  /** What ended the tunnel, for the access log: idle timeout, drain deadline, or its own end. */
  public Reason outcome() {
    return cutAtDrainDeadline ? Reason.DRAIN_DEADLINE : idleExpired ? Reason.UPSTREAM_TIMEOUT : Reason.OK;
  }

  /** True when the tunnel ended because nothing moved for the idle timeout. */
  public boolean idleExpired() {
    return idleExpired;
  }

  private void scheduleIdleCheck(long delay) {
    if (idleNanos > 0) {
      idleTimer = clientSide.channel.eventLoop().schedule(this::checkIdle, delay, TimeUnit.NANOSECONDS);
    }
  }

  private void checkIdle() {
    idleTimer = null;
    if (finished) {
      return;
    }
    long left = lastActivity + idleNanos - clock.getAsLong();
    if (left > 0) {
      scheduleIdleCheck(left);
      return;
    }
    idleExpired = true;
    clientSide.channel.close();
    upstreamSide.channel.close();
  }

  private void maybeFinish() {
    if (finished || clientSide.channel.isOpen() || upstreamSide.channel.isOpen()) {
      return;
    }
    finished = true;
    if (idleTimer != null) {
      idleTimer.cancel(false);
    }
    listener.tunnelClosed(this);
  }

  /** One direction's reader: bytes read from {@code channel} are written to {@code peer}. */
  private final class Side extends ChannelInboundHandlerAdapter {
    final Channel channel;
    Side peer;
    long bytesRead;
    boolean inputEnded;
    boolean outputShut;

    Side(Channel channel) {
      this.channel = channel;
    }

    /** Reads while the peer can take more, and until this side's input ended. */
    void updateReading() {
      boolean read = !inputEnded && peer.channel.isWritable();
      channel.config().setAutoRead(read);
      if (read) {
        channel.read();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf) || !peer.channel.isActive() || peer.outputShut) {
        ReferenceCountUtil.release(msg); // e.g. the empty end of the CONNECT request, or a closed peer
        return;
      }
      lastActivity = clock.getAsLong();
      bytesRead += buf.readableBytes();
      peer.channel.write(buf, peer.channel.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.channel.flush();
      if (!peer.channel.isWritable()) {
        channel.config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      peer.updateReading(); // this side can take more (or no more) of what the peer reads
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        inputEnded = true;
        channel.config().setAutoRead(false);
        peer.shutdownOutput();
        if (outputShut) {
          channel.close();
        }
        return;
      }
      if (evt instanceof io.gatehouse.http.DrainEvent drain && drain.atDeadline()) {
        cutAtDrainDeadline = true; // a tunnel outlives a drain until this deadline, then the server closes it
      }
      ReferenceCountUtil.release(evt);
    }

    /**
     * Sends FIN after what is queued; both ways done means the connection is finished. When this
     * side's input already ended, a close sends the same FIN and saves the shutdown. Otherwise,
     * once the FIN is out, half-closure is turned off for this channel: its EOF then ends both
     * directions, and Netty closes it at once instead of shutting down input that the peer's FIN
     * already closed (a shutdown(2) that fails with ENOTCONN and an exception per tunnel).
     */
    void shutdownOutput() {
      if (outputShut) {
        return;
      }
      outputShut = true;
      if (inputEnded || !(channel instanceof DuplexChannel)) {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
        if (!channel.isActive()) {
          channel.close();
          return;
        }
        ((DuplexChannel) channel).shutdownOutput().addListener(done -> {
          if (inputEnded || !done.isSuccess()) {
            channel.close();
          } else {
            channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
          }
        });
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      // An abrupt close (or RST) of one side: the other gets what was queued, then closes.
      if (peer.channel.isOpen()) {
        peer.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      maybeFinish();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      channel.close(); // resets are routine for tunnels; the close path ends the other side
    }
  }
}
