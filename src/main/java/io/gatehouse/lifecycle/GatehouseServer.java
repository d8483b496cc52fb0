package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.PerClientLimits;
import io.gatehouse.health.ActiveHealthChecker;
import io.gatehouse.health.EndpointGauges;
import io.gatehouse.listener.ConnectionLimiter;
import io.gatehouse.listener.Listener;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.DrainSignal;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.reverse.ReverseProxyHandler;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.reverse.ReverseRouting;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.EndpointRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Gatehouse: event loops, listeners, the current {@link Snapshot}, pools and metrics.
 * Owns start, reload (swap of the snapshot) and graceful stop.
 */
public final class GatehouseServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);

  private final Transport transport;
  private final MultiThreadIoEventLoopGroup group;
  private final List<EventLoop> loops;
  private final LongSupplier clock = System::nanoTime;
  private final EndpointRegistry endpoints = new EndpointRegistry();
  private final ProxyMetrics metrics;
  private final AtomicReference<Snapshot> current = new AtomicReference<>();
  private final SnapshotCompiler compiler;
  private final UpstreamPools pools;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Map<String, Listener> listeners = new LinkedHashMap<>();
  private final ConnectionLimiter limiter;
  private final DnsAddressResolverGroup resolver;
  private final ActiveHealthChecker healthChecker;
  /** Endpoint addresses a reload removed: their connections close as their last exchanges end. */
  private final Set<HostPort> retired = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final EndpointControl endpointControl;
  private AdminEndpoint admin;

  private GatehouseServer(GatehouseConfig config, int threads) {
    transport = Transport.best();
    group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    loops = new ArrayList<>();
    for (EventExecutor executor : group) {
      loops.add((EventLoop) executor);
    }
    metrics = new ProxyMetrics(true);
    compiler = new SnapshotCompiler(endpoints, loops, clock);
    resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
        .datagramChannelType(transport.datagramChannel())
        .socketChannelType(transport.socketChannel()));
    Bootstrap upstreamTemplate = new Bootstrap()
        .channel(transport.clientChannel())
        .resolver(resolver)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Listener.WATER_MARK)
        .handler(new UpstreamPipeline(64 * 1024));
    pools = new UpstreamPools(loops, upstreamTemplate, clock,
        address -> !retired.contains(address) && EndpointControl.retainsConnections(endpoints.find(address)));
    healthChecker = new ActiveHealthChecker(loops, upstreamTemplate.clone(), clock);
    endpointControl = new EndpointControl(current::get, pools, clock);
    PerClientLimits perClient = config.limits().perClient();
    limiter = new ConnectionLimiter(config.limits().maxConnections(), perClient == null ? 0 : perClient.connections());
  }

  /** Starts every listener of {@code config}; returns once all are bound. */
  public static GatehouseServer start(GatehouseConfig config) throws Exception {
    int threads = Integer.getInteger("gatehouse.threads", Runtime.getRuntime().availableProcessors());
    GatehouseServer server = new GatehouseServer(config, threads);
    try {
      server.startListeners(config);
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void startListeners(GatehouseConfig config) throws Exception {
    current.set(compiler.compile(1, config));
    healthChecker.update(clusters(current.get()));
    EndpointGauges.register(metrics, () -> clusters(current.get()));
    metrics.gauge("gatehouse_config_generation", "Generation of the config in use", () -> current.get().generation());
    ExchangeLog observer = new ExchangeLog(metrics, config.accessLog());
    for (ListenerConfig lc : config.listeners()) {
      ConnectionContext context = new ConnectionContext(
          lc.name(), lc.tls() != null, config.limits().maxBodyBytes(), observer, clock);
      Listener listener = Listener.bind(lc, config.limits(), group, transport.serverChannel(),
          TlsContexts.forListener(lc), handlerFactory(lc, context), connections, limiter, clock);
      listeners.put(lc.name(), listener);
      metrics.gauge("gatehouse_connections_active", "Open client connections", "listener", lc.name(),
          () -> connections.stream().filter(ch -> ch.parent() != null
              && ch.parent().localAddress().equals(listener.localAddress())).count());
      log.info("listener {} ({}) on {}", lc.name(), lc.mode().name().toLowerCase(), listener.localAddress());
    }
    if (config.admin() != null) {
      admin = AdminEndpoint.start(config.admin(), group, transport, metrics, this);
      log.info("admin API on {}", admin.localAddress());
    }
    log.info("Gatehouse started: transport {}, {} event loops, TLS provider {}",
        transport.name(), loops.size(), TlsContexts.providerName());
  }

  private ProxyHandlerFactory handlerFactory(ListenerConfig lc, ConnectionContext context) {
    if (lc.mode() == ListenerMode.REVERSE) {
      java.util.function.Supplier<ReverseRouting> routing = () -> current.get().routing();
      return timeouts -> new ReverseProxyHandler(context, timeouts, routing, pools, lc.headers());
    }
    return ForwardListeners.factory(lc, context, pools, resolver, clock);
  }

  /**
   * Swaps in a new config generation; listeners themselves are not rebound. Health checks follow
   * the new endpoint set, and endpoints no longer in any cluster are drained: idle pooled
   * connections close now, exchanges in flight finish and their connections close after them.
   */
  public synchronized void reload(GatehouseConfig config) {
    Snapshot previous = current.get();
    Snapshot next = compiler.compile(previous.generation() + 1, config);
    current.set(next);
    healthChecker.update(clusters(next));
    Set<HostPort> live = addresses(next);
    retired.removeAll(live);
    for (HostPort old : addresses(previous)) {
      if (!live.contains(old)) {
        retired.add(old);
        pools.closeIdle(old);
      }
    }
    endpoints.retainOnly(live);
    log.info("config generation {} in use", next.generation());
  }

  private static List<Cluster> clusters(Snapshot snapshot) {
    List<Cluster> list = new ArrayList<>(snapshot.clusters().size());
    for (ClusterRuntime runtime : snapshot.clusters().values()) {
      list.add(runtime.cluster());
    }
    return list;
  }

  private static Set<HostPort> addresses(Snapshot snapshot) {
    Set<HostPort> set = new HashSet<>();
    for (ClusterRuntime runtime : snapshot.clusters().values()) {
      for (Endpoint e : runtime.cluster().endpoints()) {
        set.add(e.address());
      }
    }
    return set;
  }

  /** Per-endpoint state and drain/enable/disable, for the admin API and tests. */
  public EndpointAdmin endpointAdmin() {
    return endpointControl;
  }

  public GatehouseConfig config() {
    return current.get().config();
  }

  public long generation() {
    return current.get().generation();
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public EndpointRegistry endpoints() {
    return endpoints;
  }

  /** The address a listener is bound to (its port when the config said port 0). */
  public InetSocketAddress address(String listener) {
    return listeners.get(listener).localAddress();
  }

  public InetSocketAddress adminAddress() {
    return admin == null ? null : admin.localAddress();
  }

  public String transportName() {
    return transport.name();
  }

  /**
   * Stops accepting, lets in-flight exchanges finish within {@code deadline}, then closes what is
   * left and releases the event loops.
   */
  public void stop(Duration deadline) {
    log.info("stopping: draining {} connections (deadline {} ms)", connections.size(), deadline.toMillis());
    listeners.values().forEach(Listener::close);
    for (Channel ch : connections) {
      ch.pipeline().fireUserEventTriggered(DrainSignal.INSTANCE);
    }
    long end = System.nanoTime() + deadline.toNanos();
    while (!connections.isEmpty() && System.nanoTime() < end) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (!connections.isEmpty()) {
      log.warn("drain deadline reached: closing {} connections", connections.size());
    }
    close();
  }

  @Override
  public void close() {
    healthChecker.close();
    listeners.values().forEach(Listener::close);
    if (admin != null) {
      admin.close();
    }
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    pools.closeAllIdle();
    resolver.close();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    log.info("Gatehouse stopped");
  }

  Class<? extends SocketChannel> socketChannelType() {
    return transport.socketChannel();
  }
}
