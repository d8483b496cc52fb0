package io.gatehouse.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * HTTP/2 connections to one upstream peer, owned by one event loop, handing out streams
 * (RFC 9113 §5): each exchange gets a new stream channel of a shared connection, whose pipeline
 * speaks the same HTTP/1 messages as a pooled HTTP/1.1 connection's, so the relay cannot tell the
 * two apart. Every method runs on the loop: plain fields.
 *
 * <p>A connection takes streams up to the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS} (until
 * its first SETTINGS arrive: what the peer announced on another connection, or 100, the RFC's
 * recommended floor, §6.5.2; the codec holds back a stream past the limit once it is known); past that the next
 * connection is opened, up to {@code maxConnections}, then callers wait as for a full HTTP/1.1
 * pool (no longer than the connect timeout, then 503). So one connection per event loop and peer
 * carries what takes one connection per request in flight with HTTP/1.1.
 *
 * <p>A connection the peer sends GOAWAY on takes no new stream; the streams it will not process
 * (above its last stream id) are refused to their exchanges, which replay them on another
 * connection (§6.8: they were not processed), and it closes once its last stream ends. An idle
 * connection (no stream) closes after {@code maxIdleNanos}; while the peer drains or the spec is
 * retired ({@code retain} false) connections close as their last stream ends.
 */
public final class Http2ConnectionPool implements UpstreamPool {
  /** Streams a connection takes before the peer's first SETTINGS say how many it allows (RFC 9113 §6.5.2). */
  static final int STREAMS_BEFORE_SETTINGS = 100;

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final SocketAddress remote;
  private final int maxConnections;
  private final long maxIdleNanos;
  private final LongSupplier nanoClock;
  private final long waitMillis;
  private final int maxPending;
  private final BooleanSupplier retain;
  /** PING a connection with open streams that read nothing for this long (0: never), and wait this long for an answer. */
  private final long pingIntervalNanos;
  private final long pingTimeoutNanos;
  /** The pipeline of each stream channel: the HTTP/2 stream codec and the upstream handler. */
  private final ChannelHandler streamPipeline;

  private final List<Http2Upstream> connections = new ArrayList<>(2);
  private final ArrayDeque<Waiter> pending = new ArrayDeque<>();
  private boolean closed;
  /**
   * Streams a new connection may take before its own SETTINGS arrive: 100 until the peer said how
   * many it allows on any connection, then that (the same server; streams sent past its limit would
   * be refused, and refused again on the next new connection).
   */
  private int peerMaxStreams = STREAMS_BEFORE_SETTINGS;
  /** Runs the registry's "forget me" once the pool is unused. */
  private final UnusedWatch unused;
  /** When a protocol failure was last logged, and how many were not since. */
  private long lastWarnNanos;
  private int warnsSuppressed;
  private boolean warned;

  /**
   * @param bootstrap configured with {@code loop}, channel type, options, and (TLS and) the
   *     connection pipeline of {@link Http2Upstream#initializer}
   * @param maxConnections 0 = no limit
   * @param maxPending most callers queued for a stream; 0 = 4 x the streams of one connection
   */
  Http2ConnectionPool(EventLoop loop, Bootstrap bootstrap, SocketAddress remote, int maxConnections, long maxIdleNanos,
      LongSupplier nanoClock, int maxPending, BooleanSupplier retain, ChannelHandler streamPipeline,
      long pingIntervalNanos, long pingTimeoutNanos) {
    this.pingIntervalNanos = pingIntervalNanos;
    this.pingTimeoutNanos = pingTimeoutNanos;
    this.loop = loop;
    this.bootstrap = bootstrap;
    this.remote = remote;
    this.maxConnections = maxConnections <= 0 ? Integer.MAX_VALUE : maxConnections;
    this.maxIdleNanos = maxIdleNanos;
    this.nanoClock = nanoClock;
    Object connectMillis = bootstrap.config().options().get(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS);
    this.waitMillis = connectMillis instanceof Integer ? (Integer) connectMillis : 5000;
    this.maxPending = maxPending > 0 ? maxPending : 4 * STREAMS_BEFORE_SETTINGS;
    this.retain = retain;
    this.streamPipeline = streamPipeline;
    this.unused = new UnusedWatch(loop, nanoClock, maxIdleNanos, () -> !connections.isEmpty() || !pending.isEmpty());
  }

  @Override
  public EventLoop eventLoop() {
    return loop;
  }

  @Override
  public SocketAddress remote() {
    return remote;
  }

  /**
   * A stream of the least busy ready connection with room, or of the next one to be ready.
   * {@code allowReuse} is not needed here: a connection that died or goes away takes no stream, and
   * a request the peer refused may go on any connection with room.
   */
  @Override
  public void acquire(AcquireCallback callback, boolean allowReuse) {
    assert loop.inEventLoop();
    if (closed) {
      callback.failed(new PoolOverloadedException("connection pool to " + remote + " closed"));
      return;
    }
    Http2Upstream ready = withRoom();
    if (ready != null) {
      openStream(ready, callback);
      return;
    }
    if (!connectingWithRoom() && connections.size() < maxConnections) {
      connect();
    }
    enqueue(callback); // served when a connection is ready or a stream ends
  }

  /** The ready connection with the fewest streams that can take one more, or null. */
  private Http2Upstream withRoom() {
    Http2Upstream best = null;
    for (Http2Upstream c : connections) {
      if (c.room() > 0 && (best == null || c.inUse() < best.inUse())) {
        best = c;
      }
    }
    return best;
  }

  private boolean connectingWithRoom() {
    int waiting = pending.size();
    for (Http2Upstream c : connections) {
      if (!c.ready() && !c.goingAway()) {
        waiting -= peerMaxStreams;
      }
    }
    return waiting < 0;
  }

  private void enqueue(AcquireCallback callback) {
    if (pending.size() >= maxPending) {
      callback.failed(new PoolOverloadedException("HTTP/2 pool to " + remote + " full: " + connections.size()
          + " connections, " + pending.size() + " waiting for a stream"));
      return;
    }
    Waiter waiter = new Waiter(callback);
    waiter.timeout = loop.schedule(() -> {
      if (pending.remove(waiter)) {
        callback.failed(new PoolOverloadedException("no HTTP/2 stream to " + remote + " became free within "
            + waitMillis + " ms (" + connections.size() + " connections on this event loop)"));
        checkEmpty();
      }
    }, waitMillis, TimeUnit.MILLISECONDS);
    pending.add(waiter);
  }

  private static final class Waiter {
    final AcquireCallback callback;
    ScheduledFuture<?> timeout;

    Waiter(AcquireCallback callback) {
      this.callback = callback;
    }
  }

  private Http2Upstream connect() {
    Http2Upstream c = new Http2Upstream(this);
    connections.add(c);
    // From a task of its own, never inside the I/O event being handled (see ConnectionPool#connect).
    loop.execute(() -> {
      if (closed) {
        c.failed(new PoolOverloadedException("connection pool to " + remote + " closed"));
        return;
      }
      Channel ch = UpstreamPools.open(bootstrap, remote, new AcquireCallback() {
        @Override
        public void acquired(Channel channel, boolean reused) {
          // TCP is up; the connection is ready once TLS agreed on h2 (Http2Upstream.Handler).
        }

        @Override
        public void failed(Throwable cause) {
          c.failed(cause);
        }
      }).channel();
      // In time for channelActive: the bootstrap registers the channel here (the handlers are added)
      // but connects it from a task of its own (Netty's Bootstrap.doConnect), never inside open().
      c.attach(ch);
    });
    return c;
  }

  /** Opens a stream on {@code c} for {@code callback}; counted on {@code c} at once. */
  void openStream(Http2Upstream c, AcquireCallback callback) {
    c.streamOpened();
    new Http2StreamChannelBootstrap(c.channel()).handler(streamPipeline).open().addListener(f -> {
      if (!f.isSuccess()) {
        streamClosed(c);
        callback.failed(f.cause());
        return;
      }
      Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
      stream.closeFuture().addListener(x -> streamClosed(c));
      // Told as reused: the relay then keeps a bounded copy of the body until the response starts,
      // so a request the peer refuses unprocessed (REFUSED_STREAM, GOAWAY) can go again. On a stream
      // only that refusal replays it, never a plain reset (UpstreamAttempt#mayReplay).
      callback.acquired(stream, true);
    });
  }

  private void streamClosed(Http2Upstream c) {
    c.streamClosed();
    serveWaiting(); // the room it freed goes to a waiting caller first
    if (c.inUse() == 0 && (c.goingAway() || !keepsConnections())) {
      c.close();
    } else if (c.inUse() == 0) {
      c.idleFor(maxIdleNanos);
    }
  }

  /** A connection became ready or got room: waiting callers get streams while any connection has room. */
  void serveWaiting() {
    while (!pending.isEmpty()) {
      Http2Upstream c = withRoom();
      if (c == null) {
        if (!connectingWithRoom() && connections.size() < maxConnections && !closed) {
          connect();
        }
        return;
      }
      Waiter w = pending.poll();
      w.timeout.cancel(false);
      openStream(c, w.callback);
    }
  }

  /** A connection that was ready closed: its streams end with it; waiting callers go elsewhere. */
  void closed(Http2Upstream c) {
    connections.remove(c);
    serveWaiting();
    checkEmpty();
  }

  /**
   * A connection could not be made (connect, TLS or ALPN failed): the callers waiting for a stream
   * fail with its cause, unless another connection can still serve them.
   */
  void connectFailed(Http2Upstream c, Throwable cause) {
    connections.remove(c);
    boolean another = false;
    for (Http2Upstream other : connections) {
      another |= other.room() > 0 || (!other.ready() && !other.goingAway());
    }
    if (another) {
      serveWaiting();
    } else {
      Waiter w;
      while ((w = pending.poll()) != null) {
        w.timeout.cancel(false);
        w.callback.failed(cause);
      }
    }
    checkEmpty();
  }

  @Override
  public void release(Channel ch) {
    ch.close(); // a stream whose exchange ended: already closed by END_STREAM both ways, or reset now
  }

  @Override
  public void discard(Channel ch) {
    ch.close(); // RST_STREAM (CANCEL) when the stream is still open; the connection stays
  }

  /**
   * Closes the ready connections that carry no stream. The others are left to finish: a connection
   * still being opened serves the callers already waiting for it (exchanges that began before a
   * reload or a drain, which must not be lost), and every connection closes after its last stream
   * once the pool keeps none ({@link #keepsConnections}: the spec retired, the endpoint drained, the
   * pool closed).
   */
  @Override
  public void closeIdle() {
    if (!pending.isEmpty()) {
      return; // the waiting callers get streams first; each connection closes after its last
    }
    for (Http2Upstream c : List.copyOf(connections)) {
      if (c.ready() && c.inUse() == 0) {
        c.close();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    Waiter w;
    while ((w = pending.poll()) != null) {
      w.timeout.cancel(false);
      w.callback.failed(new PoolOverloadedException("connection pool to " + remote + " closed"));
    }
    closeIdle();
  }

  /** Whether a connection left without streams stays open (idle) rather than closing now. */
  boolean keepsConnections() {
    return !closed && retain.getAsBoolean();
  }

  @Override
  public int openConnections() {
    return connections.size();
  }

  @Override
  public void whenUnused(Runnable forget) {
    unused.start(forget);
  }

  private void checkEmpty() {
    if (connections.isEmpty() && pending.isEmpty()) {
      unused.becameEmpty();
    }
  }

  EventLoop loop() {
    return loop;
  }

  /**
   * Logs a connection's HTTP/2-level failure (the peer does not speak HTTP/2, chose another protocol
   * by ALPN, broke the protocol): at most one line per pool every 10 s, which counts the others. A
   * misconfigured cluster is said in the log, not only as 502s in the access log.
   */
  void warnProtocolFailure(Throwable cause) {
    long now = nanoClock.getAsLong();
    if (warned && now - lastWarnNanos < TimeUnit.SECONDS.toNanos(10)) {
      warnsSuppressed++;
      return;
    }
    org.slf4j.LoggerFactory.getLogger(Http2ConnectionPool.class).warn("HTTP/2 connection to {} failed: {}{}", remote,
        cause.getMessage() == null ? cause.toString() : cause.getMessage(),
        warnsSuppressed == 0 ? "" : " (+" + warnsSuppressed + " suppressed)");
    warned = true;
    lastWarnNanos = now;
    warnsSuppressed = 0;
  }

  int peerMaxStreams() {
    return peerMaxStreams;
  }

  /** A connection's peer announced its limit: new connections assume it too. */
  void peerMaxStreams(int max) {
    peerMaxStreams = max;
  }

  long maxIdleNanos() {
    return maxIdleNanos;
  }

  long pingIntervalNanos() {
    return pingIntervalNanos;
  }

  long pingTimeoutNanos() {
    return pingTimeoutNanos;
  }

  long now() {
    return nanoClock.getAsLong();
  }
}
