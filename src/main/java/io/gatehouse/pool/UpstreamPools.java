package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Connection pools to upstream addresses, one per (event loop, address). Connections are opened on
 * the asking loop from a shared bootstrap template (transport, options, upstream pipeline, async DNS).
 */
public final class UpstreamPools {
  private final PoolRegistry<PeerSpec> registry;
  /** Specs no generation uses any more: their pools keep no connection after an exchange. */
  private final Set<PeerSpec> retired = ConcurrentHashMap.newKeySet();
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

  /** The pool for {@code address} on {@code loop}, plain HTTP. */
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
    return get(loop, new PeerSpec(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos));
  }

  /** The pool of {@code spec} on {@code loop}, created on first use. Call on {@code loop}. */
  public ConnectionPool get(EventLoop loop, PeerSpec spec) {
    return registry.pool(loop, spec, key -> new ConnectionPool(loop, bootstrap(loop, spec, template.config().handler()),
        remote(spec.address()), spec.maxConnections(), spec.maxIdleNanos(), clock, spec.maxPending(),
        // A PROXY header names one client: its connection is never handed to another (as HAProxy's
        // send-proxy connections are private to their client), so none is kept after an exchange.
        () -> spec.proxyProtocol() == null && !retired.contains(spec) && retain.test(spec.address())));
  }

  /**
   * One connection to {@code spec}'s peer outside any pool, with {@code handler} above TLS (when
   * the spec has it): the path health probes take, so they reach a peer as requests do.
   */
  public ChannelFuture connect(EventLoop loop, PeerSpec spec, ChannelHandler handler) {
    Bootstrap bootstrap = bootstrap(loop, spec, handler);
    if (spec.proxyProtocol() != null) {
      // A probe speaks for no client: v2 LOCAL or v1 UNKNOWN, which origins that require the header accept.
      bootstrap.handler(ProxyHeader.local(spec.proxyProtocol()).before(bootstrap.config().handler()));
    }
    return bootstrap.connect(remote(spec.address()));
  }

  /** The one way to open a connection upstream: transport, options, resolver, connect timeout, TLS. */
  private Bootstrap bootstrap(EventLoop loop, PeerSpec spec, ChannelHandler handler) {
    Bootstrap bootstrap = template.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, spec.connectTimeoutNanos() / 1_000_000))
        .handler(handler);
    if (spec.tls() != null) {
      bootstrap.handler(new TlsUpstreamInitializer(spec.tls(), spec.address(), handler));
    }
    return bootstrap;
  }

  private static InetSocketAddress remote(HostPort address) {
    return InetSocketAddress.createUnresolved(address.host(), address.port());
  }

  /**
   * Makes the pools follow a new generation: pools of specs in {@code previous} but not in
   * {@code next} close their idle connections and keep none after an exchange; specs in use again
   * are taken back into service.
   */
  public void follow(Set<PeerSpec> previous, Set<PeerSpec> next) {
    retired.removeAll(next);
    for (PeerSpec spec : previous) {
      if (!next.contains(spec)) {
        retired.add(spec);
        registry.forEach(spec, ConnectionPool::closeIdle);
      }
    }
  }

  /** Open connections to {@code address} over every loop and spec, for operators; blocks, never on an event loop. */
  public long openConnections(HostPort address) {
    return registry.sumMatching(spec -> spec.address().equals(address), ConnectionPool::openConnections);
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
