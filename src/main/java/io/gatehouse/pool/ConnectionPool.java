package io.gatehouse.pool;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Keep-alive connections to one upstream address, owned by one event loop. Every method runs on
 * that loop, so the fields are plain (no locks, no volatile): a pool is never shared between loops.
 *
 * <p>Idle connections are kept most-recently-used first (the warmest socket serves next, the
 * coldest expires). While idle a connection reads, so an upstream that closes it is noticed at
 * once and the connection leaves the pool before anyone acquires it.
 *
 * <p>With an {@link EndpointCap} the pool also shares a limit on connections to its peer with the
 * pools of the other loops. A pool that has had no connection and no waiting caller for its idle
 * time tells its registry, which forgets it: a forward proxy meets origins without end, and a pool
 * per origin ever visited would grow without bound.
 */
public final class ConnectionPool implements UpstreamPool {
  private static final int MAX_PENDING_PER_CONNECTION = 4;

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final SocketAddress remote;
  private final int maxConnections;
  private final long maxIdleNanos;
  private final LongSupplier nanoClock;
  /** How long a caller may wait for a free connection: the connect timeout of the bootstrap. */
  private final long waitMillis;
  private final int maxPending;
  /** False while the endpoint is draining or disabled: connections close on release instead. */
  private final BooleanSupplier retain;

  private final ArrayDeque<Idle> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> pending = new ArrayDeque<>();
  /**
   * Connections opened with a PROXY header: each belongs to one client connection and never joins
   * {@link #idle}; between that client's requests it is parked here (with the time it was parked).
   */
  private final java.util.Set<Channel> bound = new java.util.HashSet<>();
  private final java.util.Map<Channel, Long> parked = new java.util.HashMap<>();
  /** Connections open or being opened, idle ones included. */
  private int open;
  private boolean closed;
  private ScheduledFuture<?> sweeper;
  /** Shared with the other loops' pools of this peer; null when connections are not capped per endpoint. */
  private final EndpointCap cap;
  /** Runs the registry's "forget me" once the pool is unused. */
  private final UnusedWatch unused;

  private record Idle(Channel channel, long since) {}

  /**
   * @param bootstrap configured with {@code loop}, channel type, options and upstream pipeline
   * @param maxConnections 0 = no limit
   */
  public ConnectionPool(
      EventLoop loop, Bootstrap bootstrap, SocketAddress remote, int maxConnections, long maxIdleNanos,
      LongSupplier nanoClock) {
    this(loop, bootstrap, remote, maxConnections, maxIdleNanos, nanoClock, 0, () -> true);
  }

  /**
   * @param maxPending most callers queued for a connection; 0 = {@value #MAX_PENDING_PER_CONNECTION}
   *     per allowed connection
   * @param retain whether a released connection may be kept (false while its endpoint drains)
   */
  public ConnectionPool(
      EventLoop loop, Bootstrap bootstrap, SocketAddress remote, int maxConnections, long maxIdleNanos,
      LongSupplier nanoClock, int maxPending, BooleanSupplier retain) {
    this(loop, bootstrap, remote, maxConnections, maxIdleNanos, nanoClock, maxPending, retain, null);
  }

  /** As above; {@code cap}, when not null, limits connections to the peer over every loop's pool. */
  ConnectionPool(
      EventLoop loop, Bootstrap bootstrap, SocketAddress remote, int maxConnections, long maxIdleNanos,
      LongSupplier nanoClock, int maxPending, BooleanSupplier retain, EndpointCap cap) {
    this.loop = loop;
    this.cap = cap;
    this.bootstrap = bootstrap;
    this.remote = remote;
    this.maxConnections = maxConnections <= 0 ? Integer.MAX_VALUE : maxConnections; // 0 = no limit
    this.maxIdleNanos = maxIdleNanos;
    this.nanoClock = nanoClock;
    Object connectMillis = bootstrap.config().options().get(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS);
    this.waitMillis = connectMillis instanceof Integer ? (Integer) connectMillis : 5000;
    this.maxPending = maxPending > 0 ? maxPending
        : (int) Math.min(Integer.MAX_VALUE, (long) this.maxConnections * MAX_PENDING_PER_CONNECTION);
    this.retain = retain;
    this.unused = new UnusedWatch(loop, nanoClock, maxIdleNanos, () -> open > 0 || !pending.isEmpty());
    if (cap != null) {
      cap.register(this);
    }
  }

  @Override
  public EventLoop eventLoop() {
    return loop;
  }

  @Override
  public SocketAddress remote() {
    return remote;
  }

  /** Hands out an idle connection, opens a new one, or queues the caller when at the limit. */
  public void acquire(AcquireCallback callback) {
    acquire(callback, true);
  }

  /** Like {@link #acquire(AcquireCallback)}; {@code allowReuse=false} always opens a new connection. */
  @Override
  public void acquire(AcquireCallback callback, boolean allowReuse) {
    acquire(callback, allowReuse, null);
  }

  /**
   * Opens a new connection whose pipeline starts with {@code header} (a {@link ProxyHeader} for
   * one client), within the pool's limits; never hands out an idle one. The connection is bound to
   * that client: after an exchange it is parked for it ({@link #park}) or closed, never shared.
   */
  public void acquire(AcquireCallback callback, ProxyHeader header) {
    acquire(callback, false, header);
  }

  private void acquire(AcquireCallback callback, boolean allowReuse, ProxyHeader header) {
    assert loop.inEventLoop();
    if (allowReuse) {
      Idle entry;
      while ((entry = idle.pollFirst()) != null) {
        Channel ch = entry.channel();
        if (ch.isActive() && nanoClock.getAsLong() - entry.since() < maxIdleNanos) {
          callback.acquired(ch, true);
          return;
        }
        closeQuietly(ch);
      }
    } else if ((open >= maxConnections || atCap()) && !idle.isEmpty()) {
      closeQuietly(idle.pollLast().channel()); // make room for the fresh connection
    }
    boolean capped = false;
    if (open < maxConnections && !closed) {
      if (cap == null || cap.tryTake()) {
        connect(callback, header);
        return;
      }
      capped = true; // this loop may open more, but the endpoint's connections over all loops may not
    }
    if (closed || pending.size() >= maxPending) {
      callback.failed(new PoolOverloadedException(
          "connection pool to " + remote + " full: " + open + " open, " + pending.size() + " waiting"));
      return;
    }
    // A caller waits for a free connection no longer than it would wait to connect: past that the
    // upstream is saturated and the request gets 503 rather than waiting without end.
    Waiter waiter = new Waiter(callback, header);
    waiter.timeout = loop.schedule(() -> {
      if (pending.remove(waiter)) {
        callback.failed(new PoolOverloadedException("no connection to " + remote + " became free within "
            + waitMillis + " ms (" + open + " open on this event loop"
            + (cap == null ? ")" : ", " + cap.open() + " of maxConnectionsPerEndpoint " + cap.max() + " over all)")));
        if (open == 0 && pending.isEmpty()) {
          unused.becameEmpty();
        }
      }
    }, waitMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
    pending.add(waiter);
    if (capped) {
      cap.await(this);
    }
  }

  private boolean atCap() {
    return cap != null && cap.open() >= cap.max();
  }

  /** A caller waiting for a connection, and its give-up task (cancelled once it is served). */
  private static final class Waiter {
    final AcquireCallback callback;
    /** The header its connection must open with; null when any connection will do. */
    final ProxyHeader header;
    ScheduledFuture<?> timeout;

    Waiter(AcquireCallback callback, ProxyHeader header) {
      this.callback = callback;
      this.header = header;
    }

    Waiter served() {
      timeout.cancel(false);
      return this;
    }
  }

  /** The next waiting caller, its give-up task cancelled; null when none waits. */
  private Waiter nextWaiting() {
    Waiter waiter = pending.poll();
    return waiter == null ? null : waiter.served();
  }

  /**
   * Returns a connection after a clean exchange; it is kept if still usable and its endpoint is
   * not draining (a drained endpoint's connections close as their exchanges end).
   */
  @Override
  public void release(Channel ch) {
    assert loop.inEventLoop();
    if (!ch.isActive() || closed || !retain.getAsBoolean() || bound.contains(ch)) {
      closeQuietly(ch); // a connection bound to a client goes back to it (park), never to others
      return;
    }
    Waiter next = nextWaiting();
    if (next != null) {
      next.callback.acquired(ch, true);
      return;
    }
    if (cap != null && cap.contended()) {
      closeQuietly(ch); // another loop waits for a slot of the endpoint: an idle connection here would block it
      return;
    }
    ch.config().setAutoRead(true); // notice an upstream close while idle
    idle.addFirst(new Idle(ch, nanoClock.getAsLong()));
    scheduleSweep();
  }

  /**
   * Parks a connection opened with a PROXY header after a clean exchange, for its own client's next
   * request ({@link BoundConnections}); false (and closed) when it may not be kept: broken, pool
   * closed, endpoint draining, spec retired. While parked it reads, like an idle connection.
   */
  public boolean park(Channel ch) {
    assert loop.inEventLoop();
    if (!ch.isActive() || closed || !retain.getAsBoolean() || !bound.contains(ch)) {
      closeQuietly(ch);
      return false;
    }
    ch.config().setAutoRead(true); // notice an upstream close while parked
    parked.put(ch, nanoClock.getAsLong());
    return true;
  }

  /** Takes a parked connection back for its client; false (and closed) when it is no longer usable. */
  public boolean unpark(Channel ch) {
    assert loop.inEventLoop();
    Long since = parked.remove(ch);
    if (since == null || !ch.isActive() || closed || !retain.getAsBoolean()
        || nanoClock.getAsLong() - since >= maxIdleNanos) {
      closeQuietly(ch);
      return false;
    }
    return true;
  }

  /** Closes a connection that must not be reused (broken, or its exchange did not complete). */
  @Override
  public void discard(Channel ch) {
    closeQuietly(ch);
  }

  /** Closes idle connections now (drain); connections in use close when released. */
  @Override
  public void closeIdle() {
    Idle entry;
    while ((entry = idle.pollFirst()) != null) {
      closeQuietly(entry.channel());
    }
    if (!parked.isEmpty()) {
      new java.util.ArrayList<>(parked.keySet()).forEach(ConnectionPool::closeQuietly);
      parked.clear();
    }
  }

  /** Stops handing out connections: drains idle ones and fails waiting callers. */
  @Override
  public void close() {
    closed = true;
    closeIdle();
    Waiter waiting;
    while ((waiting = nextWaiting()) != null) {
      waiting.callback.failed(new PoolOverloadedException("connection pool to " + remote + " closed"));
    }
  }

  @Override
  public int openConnections() {
    return open;
  }

  public int idleConnections() {
    return idle.size();
  }

  private void connect(AcquireCallback callback, ProxyHeader header) {
    open++;
    // Always from a task of its own, never inside the I/O event being handled: a socket opened
    // there may get the file descriptor of one closed earlier in the same epoll batch, and an
    // event still pending for that socket is then delivered to the new one, which fails it.
    loop.execute(() -> doConnect(callback, header));
  }

  /** Connects for a slot already counted in {@link #open}. */
  private void doConnect(AcquireCallback callback, ProxyHeader header) {
    if (closed) {
      open--;
      if (cap != null) {
        cap.giveBack();
      }
      callback.failed(new PoolOverloadedException("connection pool to " + remote + " closed"));
      if (open == 0) {
        unused.becameEmpty();
      }
      return;
    }
    Bootstrap from = header == null ? bootstrap : bootstrap.clone().handler(header.before(bootstrap.config().handler()));
    Channel ch = UpstreamPools.open(from, remote, callback).channel();
    if (header != null) {
      bound.add(ch);
    }
    ch.closeFuture().addListener(f -> onClosed(ch));
  }

  private void onClosed(Channel ch) {
    open--;
    bound.remove(ch);
    parked.remove(ch);
    for (Iterator<Idle> it = idle.iterator(); it.hasNext(); ) {
      if (it.next().channel() == ch) {
        it.remove();
        break;
      }
    }
    if (cap != null) {
      cap.giveBack();
    }
    serveWaiting();
    if (open == 0 && pending.isEmpty()) {
      unused.becameEmpty();
    }
  }

  /** Opens a connection for the next waiting caller if this loop's limit and the endpoint's cap allow. */
  private void serveWaiting() {
    if (closed || pending.isEmpty() || open >= maxConnections) {
      return;
    }
    if (cap != null && !cap.tryTake()) {
      cap.await(this);
      return;
    }
    Waiter next = nextWaiting();
    connect(next.callback, next.header);
  }

  /** A slot of the endpoint came free (told by {@link EndpointCap}, on this loop). */
  void slotFreed() {
    if (closed || pending.isEmpty() || open >= maxConnections) {
      cap.wakeNext(); // nobody here can use it: pass it on
      return;
    }
    serveWaiting();
  }

  /** Another loop waits for a slot of the endpoint: give up the coldest idle connection. */
  void shedIdle() {
    if (cap != null && cap.contended() && !idle.isEmpty()) {
      closeQuietly(idle.pollLast().channel());
    }
  }

  @Override
  public void whenUnused(Runnable forget) {
    unused.start(() -> {
      if (cap != null) {
        cap.unregister(this);
      }
      forget.run();
    });
  }

  private void scheduleSweep() {
    if (sweeper != null || maxIdleNanos <= 0) {
      return;
    }
    sweeper = loop.schedule(this::sweep, maxIdleNanos, TimeUnit.NANOSECONDS);
  }

  private void sweep() {
    sweeper = null;
    long now = nanoClock.getAsLong();
    Idle oldest;
    while ((oldest = idle.peekLast()) != null && now - oldest.since() >= maxIdleNanos) {
      idle.pollLast();
      closeQuietly(oldest.channel());
    }
    if (!idle.isEmpty()) {
      scheduleSweep();
    }
  }

  private static void closeQuietly(Channel ch) {
    ch.close();
  }
}
