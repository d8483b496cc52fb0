package io.gatehouse.lifecycle;

import io.gatehouse.config.HostPort;
import io.gatehouse.config.ProxyProtocolVersion;
import io.gatehouse.health.ActiveHealthChecker;
import io.gatehouse.listener.Listener;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.pool.UpstreamTls;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.EndpointRegistry;
import io.gatehouse.upstream.EndpointState;
import io.gatehouse.upstream.Health;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream side that outlives generations: the endpoint registry (health, admin state,
 * in-flight, by address), the DNS resolver, the pools (the one connect path upstream) and the
 * active health checks. A swap tells it the new generation ({@link #follow}); it then brings that
 * long-lived state in line: admin states, pools by peer spec, probes, and the retirement of
 * addresses no cluster lists any more. Followed by one thread at a time (the change lock of
 * {@link Generations}); read by the event loops.
 */
final class UpstreamSide {
  /** The server's lines keep its logger name. */
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);

  private final EndpointRegistry endpoints = new EndpointRegistry();
  private final DnsAddressResolverGroup resolver;
  private final UpstreamPools pools;
  private final ActiveHealthChecker healthChecker;
  /** Endpoint addresses a reload removed: their connections close as their last exchanges end. */
  private final Set<HostPort> retired = ConcurrentHashMap.newKeySet();
  /** The generation in use, for the probes' peer specs. */
  private final Supplier<Snapshot> current;
  private final LongSupplier clock;

  UpstreamSide(Transport transport, List<EventLoop> loops, Supplier<Snapshot> current, LongSupplier clock) {
    this.current = current;
    this.clock = clock;
    resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
        .datagramChannelType(transport.datagramChannel())
        .socketChannelType(transport.socketChannel()));
    Bootstrap upstreamTemplate = upstreamTemplate(new Bootstrap().channel(transport.clientChannel()));
    pools = new UpstreamPools(loops, upstreamTemplate, clock,
        address -> !retired.contains(address) && EndpointControl.retainsConnections(endpoints.find(address)),
        UpstreamPipeline.HTTP2_STREAMS, upstreamTemplate(new Bootstrap().channelFactory(transport.ipv4ClientChannels())));
    healthChecker = new ActiveHealthChecker(loops, new io.gatehouse.health.ProbeConnector() {
      @Override
      public ChannelFuture connect(EventLoop loop, HostPort address, long timeoutNanos, ChannelHandler handler) {
        return connectProbe(loop, address, timeoutNanos, handler);
      }

      @Override
      public boolean http2(HostPort address) {
        PeerSpec spec = peerOf(address);
        return spec != null && spec.http2();
      }
    }, clock);
  }

  /** Every upstream connection's settings, on {@code bootstrap} (which has its sockets' kind). */
  private Bootstrap upstreamTemplate(Bootstrap bootstrap) {
    return bootstrap
        .resolver(resolver)
        // No TCP_NODELAY option: Netty's socket configs (epoll and NIO) enable it when they are
        // made, and setting it again cost one setsockopt(2) per upstream connection.
        .option(ChannelOption.ALLOCATOR, Listener.ALLOCATOR)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Listener.WATER_MARK)
        .handler(new UpstreamPipeline(UpstreamPipeline.MAX_RESPONSE_HEAD_BYTES));
  }

  EndpointRegistry endpoints() {
    return endpoints;
  }

  UpstreamPools pools() {
    return pools;
  }

  DnsAddressResolverGroup resolver() {
    return resolver;
  }

  /** The first generation: its admin states, and probes for its endpoints. */
  void start(Snapshot first) {
    applyAdminStates(first);
    healthChecker.update(first.upstreamClusters());
  }

  /** After the swap from {@code previous} to {@code next}. */
  void follow(Snapshot previous, Snapshot next) {
    applyAdminStates(next);
    pools.follow(next.connectsWith());
    retireRemovedEndpoints(previous, next);
  }

  /**
   * Endpoint admin state is long-lived per address ({@code EndpointState}); the generation says
   * what it must be. Leaving service closes idle pooled connections now; busy ones close when their
   * exchange ends (the pool asks {@link EndpointControl#retainsConnections}).
   */
  private void applyAdminStates(Snapshot snapshot) {
    snapshot.adminStates().forEach((address, state) -> {
      EndpointState s = endpoints.stateFor(address);
      AdminState old = s.adminState();
      s.setAdminState(state, clock.getAsLong());
      if (state != AdminState.ACTIVE) {
        pools.closeIdle(address);
      }
      if (old != state) {
        log.info("endpoint {}: {} -> {} (generation {})", address, old, state, snapshot.generation());
      }
    });
  }

  private void retireRemovedEndpoints(Snapshot previous, Snapshot next) {
    healthChecker.update(next.upstreamClusters());
    Set<HostPort> live = next.endpointAddresses();
    retired.removeAll(live);
    for (HostPort old : previous.endpointAddresses()) {
      if (!live.contains(old)) {
        retired.add(old);
        pools.closeIdle(old);
      }
    }
    endpoints.retainOnly(live);
  }

  /** The peer spec of {@code address} in the current generation (its first cluster's), or null. */
  private PeerSpec peerOf(HostPort address) {
    for (ClusterRuntime runtime : current.get().clusters().values()) {
      PeerSpec spec = runtime.peers().get(address);
      if (spec != null) {
        return spec;
      }
    }
    return null;
  }

  /**
   * Probes connect like requests: through the pools' connect path with the peer spec of the
   * endpoint's cluster (its TLS), bounded by the probe's own timeout.
   */
  private ChannelFuture connectProbe(EventLoop loop, HostPort address, long timeoutNanos, ChannelHandler handler) {
    PeerSpec spec = peerOf(address);
    UpstreamTls tls = spec == null ? null : spec.tls();
    ProxyProtocolVersion proxyProtocol = spec == null ? null : spec.proxyProtocol();
    boolean http2 = spec != null && spec.http2();
    return pools.connect(loop, new PeerSpec(address, tls, 1, 0, 0, timeoutNanos, proxyProtocol, 0, http2), handler);
  }

  /**
   * Before a takeover, waits (at most {@code bound}) until every health-checked endpoint of
   * {@code snapshot} has had its first probe: the new process must not take traffic while it still
   * believes nothing about its upstreams, and the old one keeps serving meanwhile.
   */
  void awaitFirstHealthRound(Snapshot snapshot, Duration bound) throws InterruptedException {
    List<EndpointState> checked = new ArrayList<>();
    for (Cluster cluster : snapshot.upstreamClusters()) {
      if (cluster.healthCheck() != null) {
        cluster.endpoints().forEach(e -> checked.add(e.state()));
      }
    }
    long start = clock.getAsLong();
    long end = start + bound.toNanos();
    while (checked.stream().anyMatch(s -> s.health() == Health.STARTING)) {
      if (clock.getAsLong() - end >= 0) {
        log.warn("--takeover: first health-check round not finished after {} ms; taking over anyway",
            bound.toMillis());
        return;
      }
      Thread.sleep(20);
    }
    if (!checked.isEmpty()) {
      log.info("--takeover: first health-check round done for {} endpoints in {} ms", checked.size(),
          Duration.ofNanos(clock.getAsLong() - start).toMillis());
    }
  }

  /** Stops probing: the first step of a close, while connections still close. */
  void stopHealthChecks() {
    healthChecker.close();
  }

  /** Once every connection is closed: the idle pooled ones, and the resolver. */
  void close() {
    pools.closeAllIdle();
    resolver.close();
  }
}
