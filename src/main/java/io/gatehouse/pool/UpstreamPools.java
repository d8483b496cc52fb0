package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Connection pools to upstream addresses, one per (event loop, address). Connections are opened on
 * the asking loop from a shared bootstrap template (transport, options, upstream pipeline, async DNS).
 */
public final class UpstreamPools {
  /** What a pool is kept per: the address, and the TLS settings when the upstream speaks TLS. */
  private record PoolKey(HostPort address, UpstreamTls tls) {}

  private final PoolRegistry<PoolKey> registry;
  private final Bootstrap template;
  private final LongSupplier clock;
  private final Predicate<HostPort> retain;

  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock) {
    this(loops, template, clock, address -> true);
  }

  /**
   * @param retain whether connections to an address may go back to the pool after an exchange;
   *     false while the endpoint is draining or disabled
   */
  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock, Predicate<HostPort> retain) {
    this.registry = new PoolRegistry<>(loops);
    this.template = template;
    this.clock = clock;
    this.retain = retain;
  }

  /** The pool for {@code address} on {@code loop}; settings apply when it is first created. */
  public ConnectionPool get(
      EventLoop loop, HostPort address, int maxConnections, long maxIdleNanos, long connectTimeoutNanos) {
    return get(loop, address, null, maxConnections, 0, maxIdleNanos, connectTimeoutNanos);
  }

  /**
   * As above, over TLS when {@code tls} is not null, and with a limit on callers waiting for a
   * connection ({@code maxPending}; 0 = the pool's default).
   */
  public ConnectionPool get(
      EventLoop loop, HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos) {
    return registry.pool(loop, new PoolKey(address, tls), key -> {
      Bootstrap bootstrap = template.clone(loop)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connectTimeoutNanos / 1_000_000));
      if (tls != null) {
        bootstrap.handler(new TlsUpstreamInitializer(tls, address, template.config().handler()));
      }
      InetSocketAddress remote = InetSocketAddress.createUnresolved(address.host(), address.port());
      return new ConnectionPool(loop, bootstrap, remote, maxConnections, maxIdleNanos, clock, maxPending,
          () -> retain.test(address));
    });
  }

  /** Closes the idle connections to {@code address} on every loop (endpoint drained or removed). */
  public void closeIdle(HostPort address) {
    registry.forEachMatching(key -> key.address().equals(address), ConnectionPool::closeIdle);
  }

  /** A bootstrap for {@code loop} with the upstream transport, options and resolver, for health probes. */
  public Bootstrap bootstrapTemplate() {
    return template.clone();
  }

  /** Closes every idle connection (shutdown). */
  public void closeAllIdle() {
    registry.forEachPool(ConnectionPool::close);
  }
}
