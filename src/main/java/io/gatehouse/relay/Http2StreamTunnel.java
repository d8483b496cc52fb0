package io.gatehouse.relay;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.DrainEvent;
import io.gatehouse.http.HalfClose;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A CONNECT tunnel on an HTTP/2 stream (RFC 9113 §8.5): the stream's DATA are the bytes to the
 * upstream socket, the socket's bytes go back as DATA. It reads the stream's side in the proxy
 * handler's place ({@link Http2StreamSide#readBy}) and sits last in the upstream's pipeline.
 *
 * <ul>
 *   <li>backpressure: the stream's DATA are asked for (and their bytes given back to the client's
 *       window) only while the upstream socket takes more; the socket is read only while the stream
 *       is writable (its window, and its connection);
 *   <li>half-close: the client's END_STREAM shuts the socket's output (FIN); the socket's FIN is an
 *       empty DATA with END_STREAM; once both went, the stream is closed and the socket closes;
 *   <li>abort: a stream that ends without both END_STREAMs (a RST_STREAM from the client, an error or
 *       loss of the HTTP/2 connection) resets the TCP connection (§8.5: "a proxy MUST send a TCP
 *       segment with the RST bit set if it detects an error with the stream or the HTTP/2
 *       connection"), not a FIN that would pass a cut upload for a complete one; a reset of the TCP
 *       connection is RST_STREAM CONNECT_ERROR;
 *   <li>idle timeout: no byte either way for {@code idleNanos} resets the stream and closes the
 *       socket; bytes are counted each way and reported once, when both ends are closed.
 * </ul>
 *
 * A stream never moves to a successor process (its connection's HTTP/2 state is this process's).
 * Confined to the connection's event loop, which the upstream shares: plain fields.
 */
public final class Http2StreamTunnel extends ChannelInboundHandlerAdapter implements DownstreamReader, Tunnel {
  private final Http2StreamSide side;
  private final Channel upstream;
  private final long idleNanos;
  private final LongSupplier clock;
  private final TunnelRelay.Listener listener;
  private final long startNanos;
  private long lastActivity;
  private ScheduledFuture<?> idleTimer;
  private long bytesUp;
  private long bytesDown;
  /** The client's END_STREAM arrived: the upstream's output is shut (or being shut). */
  private boolean clientEnded;
  /** The upstream's FIN arrived (or its close): the stream's END_STREAM is sent. */
  private boolean upstreamEnded;
  /** The upstream connection failed (a reset): CONNECT_ERROR was sent, no END_STREAM follows. */
  private boolean upstreamFailed;
  private boolean sideClosed;
  private boolean idleExpired;
  private boolean cutAtDrainDeadline;
  private boolean finished;

  private Http2StreamTunnel(Http2StreamSide side, Channel upstream, long idleNanos, LongSupplier clock,
      TunnelRelay.Listener listener) {
    this.side = side;
    this.upstream = upstream;
    this.idleNanos = idleNanos;
    this.clock = clock;
    this.listener = listener;
    this.startNanos = clock.getAsLong();
    this.lastActivity = startNanos;
  }

  /**
   * Starts relaying between {@code side}, whose CONNECT was answered with its 2xx, and
   * {@code upstream}, on their shared event loop: the DATA the client sent ahead of the 2xx (queued
   * in the side) go first.
   */
  public static Http2StreamTunnel start(Http2StreamSide side, Channel upstream, long idleNanos, LongSupplier clock,
      TunnelRelay.Listener listener) {
    Http2StreamTunnel tunnel = new Http2StreamTunnel(side, upstream, idleNanos, clock, listener);
    upstream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    upstream.config().setWriteBufferWaterMark(TunnelRelay.WATER_MARK);
    upstream.config().setRecvByteBufAllocator(TunnelRelay.BULK_READS);
    upstream.pipeline().addLast(PipelineNames.TUNNEL, tunnel);
    upstream.closeFuture().addListener(f -> tunnel.maybeFinish());
    side.readBy(tunnel);
    tunnel.scheduleIdleCheck(idleNanos);
    tunnel.updateUpstreamReading();
    side.read();
    return tunnel;
  }

  /** One per tunnel; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  // ---- client (the stream) to upstream

  @Override
  public void onMessage(Object msg) {
    if (!(msg instanceof HttpContent content)) {
      ReferenceCountUtil.release(msg);
      side.read();
      return;
    }
    ByteBuf bytes = content.content();
    if (bytes.isReadable() && upstream.isActive() && !clientEnded) {
      lastActivity = clock.getAsLong();
      bytesUp += bytes.readableBytes();
      upstream.writeAndFlush(bytes, upstream.voidPromise());
    } else {
      bytes.release();
    }
    if (msg instanceof LastHttpContent) {
      clientEnded();
    } else if (upstream.isWritable()) {
      side.read();
    } // else the upstream's writability asks for the next
  }

  /** The client's END_STREAM (§8.5: its half-close): FIN to the upstream after what is queued. */
  private void clientEnded() {
    if (clientEnded) {
      return;
    }
    clientEnded = true;
    if (!upstream.isActive()) {
      return;
    }
    if (upstreamEnded) {
      upstream.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE); // both ways done
      return;
    }
    HalfClose.afterQueuedBytes(upstream, () -> upstreamEnded, () -> { });
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (upstream.isWritable() && !clientEnded && !sideClosed) {
      side.read(); // the upstream takes more: the next DATA, and its bytes back to the window
    }
    ctx.fireChannelWritabilityChanged();
  }

  // ---- upstream to client (the stream)

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf bytes) || sideClosed || upstreamEnded) {
      ReferenceCountUtil.release(msg);
      return;
    }
    lastActivity = clock.getAsLong();
    bytesDown += bytes.readableBytes();
    side.writeData(bytes, false);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    side.flush();
    updateUpstreamReading();
  }

  /** The stream's window or its connection opened or closed: the upstream reads while the stream takes more. */
  @Override
  public void onWritabilityChanged() {
    updateUpstreamReading();
  }

  private void updateUpstreamReading() {
    boolean read = !upstreamEnded && !sideClosed && side.isWritable();
    upstream.config().setAutoRead(read);
    if (read) {
      upstream.read();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      upstreamEnded(); // the upstream's FIN
      if (clientEnded) {
        upstream.close(); // both ways done (its output was shut before)
      }
    }
    ReferenceCountUtil.release(evt);
  }

  /** The upstream sent all it will: END_STREAM after its last bytes (§8.5). */
  private void upstreamEnded() {
    if (upstreamEnded) {
      return;
    }
    upstreamEnded = true;
    upstream.config().setAutoRead(false);
    if (!sideClosed) {
      side.writeData(Unpooled.EMPTY_BUFFER, true);
      side.flush();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // A close without a FIN first: the end of its bytes, which END_STREAM says; after a reset
    // (CONNECT_ERROR sent) or a close of this tunnel's own, nothing.
    if (!upstreamFailed && !sideClosed && !upstreamEnded) {
      upstreamEnded = true;
      side.endThenClose(); // nothing more can reach the upstream: the client's stream ends too
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    upstreamFailed = true;
    if (cause instanceof IOException) {
      side.reset(Http2Error.CONNECT_ERROR); // RFC 9113 §8.5: a TCP reset is CONNECT_ERROR
    }
    upstream.close(); // resets are routine for tunnels
  }

  // ---- endings

  /**
   * The stream closed. After both END_STREAMs that is the tunnel's end and the socket closes behind
   * its last bytes; otherwise (a reset, the connection lost) the socket is reset (§8.5).
   */
  @Override
  public void onClosed() {
    sideClosed = true;
    if (!upstream.isOpen()) {
      maybeFinish();
    } else if (clientEnded && upstreamEnded) {
      upstream.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    } else {
      AbortiveClose.reset(upstream);
    }
  }

  @Override
  public boolean onEvent(Object evt) {
    if (evt instanceof DrainEvent drain && drain.atDeadline()) {
      cutAtDrainDeadline = true; // a tunnel outlives a drain until this deadline, then its connection closes
    }
    return true;
  }

  private void scheduleIdleCheck(long delay) {
    if (idleNanos > 0) {
      idleTimer = side.eventLoop().schedule(this::checkIdle, delay, TimeUnit.NANOSECONDS);
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
    side.close();
    upstream.close();
  }

  private void maybeFinish() {
    if (finished || !sideClosed || upstream.isOpen()) {
      return;
    }
    finished = true;
    if (idleTimer != null) {
      idleTimer.cancel(false);
    }
    listener.tunnelClosed(this);
  }

  // ---- Tunnel

  @Override
  public long bytesUp() {
    return bytesUp;
  }

  @Override
  public long bytesDown() {
    return bytesDown;
  }

  @Override
  public long durationNanos() {
    return clock.getAsLong() - startNanos;
  }

  @Override
  public boolean cutAtDrainDeadline() {
    return cutAtDrainDeadline;
  }

  @Override
  public boolean idleExpired() {
    return idleExpired;
  }
}
