package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongSupplier;

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

  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock) {
    this.registry = new PoolRegistry<>(loops);
    this.template = template;
    this.clock = clock;
  }

  /** The pool for {@code address} on {@code loop}; settings apply when it is first created. */
  public ConnectionPool get(
      EventLoop loop, HostPort address, int maxConnections, long maxIdleNanos, long connectTimeoutNanos) {
    return get(loop, address, null, maxConnections, maxIdleNanos, connectTimeoutNanos);
  }

  /** As above, for an upstream reached over TLS when {@code tls} is not null. */
  public ConnectionPool get(
      EventLoop loop, HostPort address, UpstreamTls tls, int maxConnections, long maxIdleNanos,
      long connectTimeoutNanos) {
    return registry.pool(loop, new PoolKey(address, tls), key -> {
      Bootstrap bootstrap = template.clone(loop)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, connectTimeoutNanos / 1_000_000));
      if (tls != null) {
        bootstrap.handler(new TlsUpstreamInitializer(tls, address, template.config().handler()));
      }
      InetSocketAddress remote = InetSocketAddress.createUnresolved(address.host(), address.port());
      return new ConnectionPool(loop, bootstrap, remote, maxConnections, maxIdleNanos, clock);
    });
  }

  /** Closes the idle connections to {@code address} on every loop (endpoint drained or removed). */
  public void closeIdle(HostPort address) {
    registry.forEachMatching(key -> key.address().equals(address), ConnectionPool::closeIdle);
  }

  /** Closes every idle connection (shutdown). */
  public void closeAllIdle() {
    registry.forEachPool(ConnectionPool::close);
  }
}
