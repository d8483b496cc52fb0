package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.config.PerClientLimits;
import io.gatehouse.listener.ConnectionLimiter;
import io.gatehouse.listener.Listener;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.DrainSignal;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.reverse.ReverseProxyHandler;
import io.gatehouse.reverse.ReverseRouting;
import io.gatehouse.upstream.EndpointRegistry;
import io.netty.bootstrap.Bootstrap;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    pools = new UpstreamPools(loops, upstreamTemplate, clock);
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
    metrics.gauge("gatehouse_config_generation", "Generation of the config in use", () -> current.get().generation());
    ExchangeLog observer = new ExchangeLog(metrics, config.accessLog());
    for (ListenerConfig lc : config.listeners()) {
      ConnectionContext context = new ConnectionContext(
          lc.name(), lc.tls() != null, config.limits().maxBodyBytes(), observer, clock);
      Listener listener = Listener.bind(lc, config.limits(), group, transport.serverChannel(),
          TlsContexts.forListener(lc), handlerFactory(lc, context), connections, limiter, clock);
      listeners.put(lc.name(), listener);
      log.info("listener {} ({}) on {}", lc.name(), lc.mode().name().toLowerCase(), listener.localAddress());
    }
    // One gauge for all listeners: registering it once per listener failed ("duplicate metric
    // name") as soon as a config had two listeners.
    GaugeWithCallback.builder().name("gatehouse_connections_active").help("Open client connections")
        .labelNames("listener")
        .callback(cb -> listeners.forEach((name, listener) -> cb.call(
            connections.stream().filter(ch -> ch.parent() != null
                && ch.parent().localAddress().equals(listener.localAddress())).count(), name)))
        .register(metrics.registry());
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

  /** Swaps in a new config generation; listeners themselves are not rebound. */
  public void reload(GatehouseConfig config) {
    Snapshot next = compiler.compile(current.get().generation() + 1, config);
    current.set(next);
    log.info("config generation {} in use", next.generation());
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
