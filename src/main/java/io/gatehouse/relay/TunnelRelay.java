package io.gatehouse.relay;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.HalfClose;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
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
 *   <li>bytes are counted each way and reported once, when both channels are closed;
 *   <li>splice: when both channels are epoll sockets and neither has TLS in the proxy, the bytes
 *       of a direction past its first {@link #SPLICE_AFTER} go socket to pipe to socket with
 *       splice(2), never through user space ({@link AbstractEpollStreamChannel#spliceTo}); the
 *       copied ones (and those an HTTP codec still held) go ahead of them. Backpressure is the splice's own: Netty stops reading a
 *       side while its pipe (64 KiB) cannot be written out. At the end of a side's input, Netty
 *       leaves what its last splice pass did not take in the socket: the relay reads that itself
 *       ({@link SpliceCounter#read}) and writes it behind the spliced bytes, then relays the FIN.
 * </ul>
 *
 * A CONNECT on an HTTP/2 stream has its own relay ({@link Http2StreamTunnel}).
 *
 * <p>Both channels need {@link ChannelOption#ALLOW_HALF_CLOSURE}; {@link #start} sets it. All state is
 * confined to the shared event loop, so fields are plain.
 */
public final class TunnelRelay implements Tunnel {
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

  /**
   * Bytes asked of one {@code spliceTo}: its promise completes only when all of them moved, so one
   * large step serves a tunnel's whole life (Netty's "forever", {@code Integer.MAX_VALUE}, would
   * keep no count of its progress).
   */
  static final int SPLICE_LENGTH = 1 << 30;

  /**
   * Bytes a direction copies before it splices: a tunnel that carries only a request and a small
   * answer (CONNECT, one GET, close) never pays for the two pipes (pipe2, four closes).
   */
  static final int SPLICE_AFTER = 64 * 1024;

  /** Bytes read at a time from a socket whose end of input Netty reported before it was drained. */
  private static final int DRAIN_CHUNK = 64 * 1024;

  /** Told once when the tunnel is over; asked for its record when it moves to a successor process. */
  public interface Listener {
    void tunnelClosed(Tunnel tunnel);

    /**
     * The tunnel's access-log record as of now (its figures so far), which a successor process
     * that takes the tunnel over carries on ({@link ExchangeRecord#carriedOn}) and logs at its end.
     */
    ExchangeRecord recordSoFar(Tunnel tunnel);

    /** The listener of a tunnel whose record ({@code record}, as of any moment) goes to {@code observer} at its end. */
    static Listener recording(ExchangeObserver observer, java.util.function.Function<Tunnel, ExchangeRecord> record) {
      return new Listener() {
        @Override
        public void tunnelClosed(Tunnel tunnel) {
          observer.exchangeFinished(record.apply(tunnel));
        }

        @Override
        public ExchangeRecord recordSoFar(Tunnel tunnel) {
          return record.apply(tunnel);
        }
      };
    }
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
  /**
   * A hand-off is moving the tunnel ({@link #freeze}): neither side reads, and once both are quiet
   * both channels leave the event loop; nothing may start reading again until {@link #thaw}.
   */
  private boolean frozen;
  /** {@link #thaw} is under way (the channels may be joining the loop again). */
  private boolean thawing;
  /** The tunnel went to a successor process: this process's copies closed, nothing of it is told. */
  private boolean movedAway;

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
    if (SpliceCounter.possible(client, upstream)) {
      relay.clientSide.maySplice = true;
      relay.upstreamSide.maySplice = true;
    }
    relay.scheduleIdleCheck(idleNanos);
    return relay;
  }

  /** The relay of the tunnel {@code client} is the client side of, or null when it is none. */
  public static TunnelRelay of(Channel client) {
    return client.pipeline().get(PipelineNames.TUNNEL) instanceof Side side ? side.relay() : null;
  }

  public Channel client() {
    return clientSide.channel;
  }

  public Channel upstream() {
    return upstreamSide.channel;
  }

  /** The idle timeout the tunnel was set up with (a successor keeps it). */
  public long idleNanos() {
    return idleNanos;
  }

  /**
   * Whether both descriptors could move to another process as they are: two plain TCP sockets
   * (no TLS state in this process, no HTTP/2 stream), both directions open, nothing of an ending
   * in progress. Call on the tunnel's event loop.
   */
  public boolean movable() {
    return !finished && !cutAtDrainDeadline && canMove() && clientSide.open() && upstreamSide.open();
  }

  /**
   * The lasting half of {@link #movable}: both ends are plain TCP sockets of this process (no TLS
   * state here, no HTTP/2 stream). Safe to ask from any thread.
   */
  public boolean canMove() {
    return SpliceCounter.plainSockets(clientSide.channel, upstreamSide.channel);
  }

  /**
   * Stops both sides reading and, once every byte read so far has been written out (nothing in
   * either outbound buffer or splice pipe), takes both channels off the event loop: from then on
   * nothing of this process touches the sockets, and their descriptors can be handed to a successor
   * with nothing in flight. Completes with the tunnel's access-log record as of then ({@link
   * Listener#recordSoFar}) once frozen, or null (the tunnel relays on as before) when it is not
   * {@link #movable} or its bytes did not get out within {@code waitNanos} (a slow reader). A
   * frozen tunnel ends with {@link #movedAway} or resumes with {@link #thaw}.
   */
  public Future<ExchangeRecord> freeze(long waitNanos) {
    EventLoop loop = clientSide.channel.eventLoop();
    Promise<ExchangeRecord> frozenYet = loop.newPromise();
    loop.execute(() -> {
      if (frozen || !movable()) {
        frozenYet.setSuccess(null);
        return;
      }
      frozen = true;
      thawing = false;
      awaitQuiet(frozenYet, clock.getAsLong() + waitNanos);
    });
    return frozenYet;
  }

  private void awaitQuiet(Promise<ExchangeRecord> frozenYet, long deadline) {
    if (thawing) {
      frozenYet.setSuccess(null); // the hand-off gave up on it meanwhile
      return;
    }
    // Netty's splice turns its source's reading back on when a pipe's bytes are out: off again.
    clientSide.channel.config().setAutoRead(false);
    upstreamSide.channel.config().setAutoRead(false);
    clientSide.channel.flush();
    upstreamSide.channel.flush();
    if (!movable()) {
      resume(frozenYet);
      return;
    }
    if (!quiet()) {
      if (clock.getAsLong() - deadline >= 0) {
        resume(frozenYet);
      } else {
        clientSide.channel.eventLoop().schedule(() -> awaitQuiet(frozenYet, deadline), 1, TimeUnit.MILLISECONDS);
      }
      return;
    }
    long moved = clientSide.moved() + upstreamSide.moved();
    ChannelFuture client = clientSide.channel.deregister();
    upstreamSide.channel.deregister().addListener(upstream -> {
      // Deregistration runs as a later task: a last event may have come in between. Then it moves
      // another time.
      boolean still = client.isSuccess() && upstream.isSuccess() && !thawing && movable() && quiet()
          && clientSide.moved() + upstreamSide.moved() == moved;
      if (still) {
        clientSide.sampleSplice();
        upstreamSide.sampleSplice();
        frozenYet.setSuccess(listener.recordSoFar(this));
      } else {
        resume(frozenYet);
      }
    });
  }

  private void resume(Promise<ExchangeRecord> frozenYet) {
    thaw();
    frozenYet.setSuccess(null);
  }

  /** Nothing waits to be written on either side: every byte read so far is out. */
  private boolean quiet() {
    return SpliceCounter.nothingQueued(clientSide.channel) && SpliceCounter.nothingQueued(upstreamSide.channel);
  }

  /** A frozen tunnel relays on here (a successor refused it, or the hand-off failed). */
  public void thaw() {
    EventLoop loop = clientSide.channel.eventLoop();
    loop.execute(() -> {
      if (!frozen || movedAway || thawing) {
        return;
      }
      thawing = true; // a freeze still waiting for quiet gives up
      Future<?> client = clientSide.channel.isRegistered() ? loop.newSucceededFuture(null) : loop.register(clientSide.channel);
      Future<?> upstream = upstreamSide.channel.isRegistered() ? loop.newSucceededFuture(null) : loop.register(upstreamSide.channel);
      client.addListener(c -> upstream.addListener(u -> {
        frozen = false;
        thawing = false;
        if (!c.isSuccess() || !u.isSuccess()) {
          clientSide.channel.close();
          upstreamSide.channel.close();
          return;
        }
        clientSide.resumeReading();
        upstreamSide.resumeReading();
      }));
    });
  }

  /**
   * A successor holds both descriptors now: this process closes its own copies (a close of one of
   * two descriptors of a socket sends nothing; no shutdown(2) is ever called here) and forgets the
   * tunnel: its record is the successor's to write. Returns once both are closed.
   */
  public Future<?> movedAway() {
    EventLoop loop = clientSide.channel.eventLoop();
    Promise<Void> closed = loop.newPromise();
    loop.execute(() -> {
      movedAway = true;
      finished = true;
      if (idleTimer != null) {
        idleTimer.cancel(false);
      }
      ChannelFuture client = clientSide.channel.close();
      upstreamSide.channel.close().addListener(u -> client.addListener(c -> closed.setSuccess(null)));
    });
    return closed;
  }

  /** Bytes from the client to the upstream. */
  @Override
  public long bytesUp() {
    return clientSide.moved();
  }

  /** Bytes from the upstream to the client. */
  @Override
  public long bytesDown() {
    return upstreamSide.moved();
  }

  @Override
  public long durationNanos() {
    return clock.getAsLong() - startNanos;
  }

  /** True when a graceful stop's deadline ended the tunnel (logged as {@code drain_deadline}). */
  @Override
  public boolean cutAtDrainDeadline() {
    return cutAtDrainDeadline;
  }

  @Override
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
    if (left > 0 || frozen) {
      if (left <= 0) {
        left = TimeUnit.MILLISECONDS.toNanos(100); // moving: its successor's idle clock starts afresh
      }
      scheduleIdleCheck(left);
      return;
    }
    idleExpired = true;
    clientSide.channel.close();
    upstreamSide.channel.close();
  }

  private void maybeFinish() {
    if (finished || clientSide.channel.isOpen() || upstreamSide.channel.isOpen()) { // (a moved tunnel is finished)
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
    /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
    @Override
    public boolean isSharable() {
      return false;
    }

    final Channel channel;
    Side peer;
    long bytesRead;
    boolean inputEnded;
    boolean outputShut;
    /** An exception (a reset) ended this side. */
    boolean failed;
    /** Both channels are epoll sockets without TLS: bulk bytes may be spliced ({@link #SPLICE_AFTER}). */
    boolean maySplice;
    /** This side's channel while its bytes are spliced to the peer; null when they are copied. */
    AbstractEpollStreamChannel spliceSource;
    /** The splice in progress; null once it ended. */
    Future<?> splicing;
    /** Bytes spliced in by finished splices. */
    long splicedBytes;
    /**
     * Bytes spliced in by the splice in progress, as of the last splice pass: Netty fires
     * channelReadComplete after each pass, and only a pass moves bytes in, so this is exact. A
     * change is activity for the idle timeout: spliced bytes never pass channelRead.
     */
    long spliceProgress;
    /** Netty reported the end of input while splicing: the relay reads the socket's rest itself. */
    boolean draining;
    /** ... and closes the channel right after: the rest is read at once ({@link #drain}). */
    boolean drainAtOnce;

    Side(Channel channel) {
      this.channel = channel;
    }

    TunnelRelay relay() {
      return TunnelRelay.this;
    }

    /** Both directions of this side are open and nothing of its end is in progress. */
    boolean open() {
      return channel.isActive() && !inputEnded && !outputShut && !failed && !draining;
    }

    private void startSplice() {
      spliceSource = (AbstractEpollStreamChannel) channel;
      AbstractEpollStreamChannel target = (AbstractEpollStreamChannel) peer.channel;
      // Netty keeps the pipe of a splice on its target and closes it with the target: from then on
      // a splice into it would write to whatever descriptor takes its number. So this side stops
      // reading the moment the target closes, before any event of this side is handled.
      target.closeFuture().addListener(closed -> stopReading());
      spliceNext();
    }

    private void spliceNext() {
      Future<?> step = spliceSource.spliceTo((AbstractEpollStreamChannel) peer.channel, SPLICE_LENGTH);
      splicing = step;
      step.addListener(this::spliceEnded);
    }

    private void spliceEnded(Future<?> step) {
      if (splicing != step) {
        return;
      }
      splicing = null;
      if (step.isSuccess()) {
        splicedBytes += SPLICE_LENGTH;
        spliceProgress = 0;
        if (!inputEnded && channel.isActive() && peer.channel.isActive()) {
          spliceNext();
        }
      } else {
        splicedBytes += spliceProgress; // a close or reset: the last pass's count stands
        spliceProgress = 0;
      }
    }

    private void sampleSplice() {
      if (splicing != null && channel.isOpen()) {
        long now = SpliceCounter.inProgress(spliceSource, SPLICE_LENGTH);
        if (now != spliceProgress) {
          spliceProgress = now;
          lastActivity = clock.getAsLong();
        }
      }
    }

    /** Bytes read from this side so far, copied or spliced. */
    long moved() {
      return bytesRead + splicedBytes + spliceProgress;
    }

    /**
     * After a freeze: a copying side reads as before; a spliced one reads again unless a pipe's
     * bytes still wait to go out to the peer (Netty's splice turns its reading on when they are
     * out; the freeze turned it off, and a splice that finished meanwhile would leave it off).
     */
    void resumeReading() {
      if (spliceSource != null) {
        if (!inputEnded && SpliceCounter.nothingQueued(peer.channel)) {
          channel.config().setAutoRead(true);
        }
        return;
      }
      updateReading();
    }

    /** Reads while the peer can take more, and until this side's input ended. */
    void updateReading() {
      if (frozen || movedAway) {
        return;
      }
      if (draining) {
        drain();
        return;
      }
      if (spliceSource != null) {
        return; // Netty's splice turns reading off while its pipe cannot be written out, and on again
      }
      boolean read = !inputEnded && peer.channel.isWritable();
      channel.config().setAutoRead(read);
      if (read) {
        channel.read();
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!(msg instanceof ByteBuf buf) || movedAway || !peer.channel.isActive() || peer.outputShut) {
        ReferenceCountUtil.release(msg); // e.g. the empty end of the CONNECT request, or a closed peer
        return;
      }
      lastActivity = clock.getAsLong();
      bytesRead += buf.readableBytes();
      peer.channel.write(buf, peer.channel.voidPromise());
      if (maySplice && bytesRead >= SPLICE_AFTER && spliceSource == null) {
        maybeStartSplice();
      }
    }

    /**
     * From here on, Netty splices this side's bytes (its read loop runs the queued splice before
     * its next read, so they follow what was copied). Only while both directions are open here and
     * the peer takes more: a spliced side keeps half-closure on, and Netty's splice manages its
     * reading from then on (the bytes copied so far stay below the peer's high water mark).
     */
    private void maybeStartSplice() {
      if (!inputEnded && !outputShut && !peer.outputShut && peer.channel.isWritable()) {
        startSplice();
      } else {
        maySplice = false;
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (movedAway) {
        return;
      }
      sampleSplice();
      peer.channel.flush();
      if (spliceSource == null && !peer.channel.isWritable()) {
        channel.config().setAutoRead(false);
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      peer.updateReading(); // (not while frozen or moved away) // this side can take more (or no more) of what the peer reads
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (movedAway) {
        ReferenceCountUtil.release(evt);
        return;
      }
      if (evt instanceof ChannelInputShutdownEvent) {
        sampleSplice();
        inputEnded = true;
        channel.config().setAutoRead(false);
        if (spliceSource != null) {
          draining = true;
          drainAtOnce = outputShut;
          drain();
        } else {
          inputDone();
        }
        return;
      }
      if (evt instanceof io.gatehouse.http.DrainEvent drain && drain.atDeadline()) {
        cutAtDrainDeadline = true; // a tunnel outlives a drain until this deadline, then the server closes it
      }
      ReferenceCountUtil.release(evt);
    }

    /** Every byte of this side's input is on its way to the peer: the FIN follows them. */
    private void inputDone() {
      peer.shutdownOutput();
      if (outputShut) {
        // the FIN this side was asked to send may still wait behind queued bytes: they go first
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }

    /**
     * Reads the bytes Netty's last splice pass left in the socket and writes them behind the spliced
     * ones (the peer's outbound buffer keeps the order), while the peer can take more; its
     * writability resumes this. Once this side's FIN is also sent, Netty closes the channel right
     * after the input-shutdown event (its shutdown(2) of a closed connection fails with ENOTCONN),
     * so then everything is read at once: at most what the socket's receive buffer holds.
     */
    void drain() {
      while (draining) {
        if (!channel.isOpen()) {
          draining = false;
          return;
        }
        if (!drainAtOnce && !peer.channel.isWritable()) {
          peer.channel.flush();
          return;
        }
        ByteBuf buf = channel.alloc().directBuffer(DRAIN_CHUNK);
        int n;
        try {
          n = SpliceCounter.read(spliceSource, buf);
        } catch (IOException e) {
          buf.release();
          draining = false;
          channel.close(); // a reset: the close path ends the other side
          return;
        }
        if (n < 0) {
          buf.release();
          draining = false;
          peer.channel.flush();
          inputDone();
          return;
        }
        lastActivity = clock.getAsLong();
        bytesRead += n;
        if (peer.channel.isActive() && !peer.outputShut) {
          peer.channel.write(buf, peer.channel.voidPromise());
        } else {
          buf.release();
        }
      }
    }

    /**
     * The peer closed while this side splices into it: this side reads no more. Netty skips every
     * read event of a channel whose input is shut down once half-closure is off.
     */
    private void stopReading() {
      if (movedAway || inputEnded || !channel.isOpen()) { // moved: a shutdown(2) here would end the successor's
        return;
      }
      sampleSplice();
      inputEnded = true;
      draining = false;
      channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
      ((DuplexChannel) channel).shutdownInput();
    }

    /**
     * Sends FIN after what is queued; both ways done means the connection is finished. When this
     * side's input already ended, a close sends the same FIN and saves the shutdown. Otherwise,
     * once the FIN is out, half-closure is turned off for this channel: its EOF then ends both
     * directions, and Netty closes it at once instead of shutting down input that the peer's FIN
     * already closed (a shutdown(2) that fails with ENOTCONN and an exception per tunnel). Not
     * while this side is spliced: Netty's splice reports the EOF before the socket is drained, and
     * a close then would drop (and reset) what the relay still has to read.
     */
    void shutdownOutput() {
      if (outputShut) {
        return;
      }
      outputShut = true;
      boolean inputDone = inputEnded && !draining; // a drain closes the channel when it is done
      if (inputDone || !(channel instanceof DuplexChannel)) {
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        return;
      }
      HalfClose.afterQueuedBytes(channel, () -> inputEnded && !draining, () -> {
        if (spliceSource == null) {
          channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        }
      });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (movedAway) {
        return; // only this process's copy closed: the successor relays on
      }
      // An abrupt close (or RST) of one side: the other gets what was queued, then closes.
      if (peer.channel.isOpen()) {
        peer.channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      maybeFinish();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (movedAway) {
        return;
      }
      failed = true;
      channel.close(); // resets are routine for tunnels; the close path ends the other side
    }
  }
}
