package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.PerClientLimits;
import io.gatehouse.health.ActiveHealthChecker;
import io.gatehouse.health.EndpointGauges;
import io.gatehouse.listener.ConnectionLimiter;
import io.gatehouse.listener.InheritedSockets;
import io.gatehouse.listener.Listener;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.reverse.ClusterRuntime;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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
  private final ListenerSet listeners = new ListenerSet(connections);
  private final ConnectionLimiter limiter;
  private final DnsAddressResolverGroup resolver;
  /** Verifies proxy passwords (bcrypt is deliberately slow) off the event loops; bounded queue. */
  private final java.util.concurrent.ThreadPoolExecutor bcrypt = newBcryptExecutor();
  private final ForwardListeners forward;
  private final ListenerCompiler listenerCompiler;
  private final ActiveHealthChecker healthChecker;
  /** Endpoint addresses a reload removed: their connections close as their last exchanges end. */
  private final Set<HostPort> retired = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final EndpointControl endpointControl;
  /** systemd's notification socket (Type=notify), when there is one. */
  private final SdNotify notify;
  /** Set once a drain starts (stop or hand-off): {@code /ready} answers 503 from then on. */
  private volatile boolean draining;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
  /** Where overrides persist; fixed at start (a {@code state.file} change applies at restart). */
  private StateFile stateFile;
  private AdminEndpoint admin;
  /** Offers the listening sockets to a successor; null without {@code handoff.socket} or epoll. */
  private HandoffServer handoff;
  /** Set once a successor accepts on this process's sockets (on the hand-off connection's loop). */
  private volatile boolean handedOff;
  /** The instance this one takes over from, during start only. */
  private HandoffClient predecessor;
  /** Sockets listeners adopt instead of binding; only during start. */
  private InheritedSockets inherited = InheritedSockets.NONE;
  private static final Duration HANDOFF_TIMEOUT = Duration.ofSeconds(10);
  private AccessLogWriter accessLog;
  private ExchangeLog observer;
  /** Per (route, cluster) figures for the deployment judge, fed by {@link #observer}. */
  private final io.gatehouse.deploy.CohortObserver cohorts = new io.gatehouse.deploy.CohortObserver();
  /** The deployments: store, controller, the judge's ticker. */
  private DeploymentWiring deployments;
  /** This instance in its fleet; null without a {@code fleet} section (then nothing of it exists). */
  private FleetMember fleet;

  private GatehouseServer(GatehouseConfig config, int threads) {
    transport = Transport.best();
    group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    loops = new ArrayList<>();
    for (EventExecutor executor : group) {
      loops.add((EventLoop) executor);
    }
    metrics = new ProxyMetrics(true);
    compiler = new SnapshotCompiler(endpoints, loops, clock, (route, limit) -> FleetMember.limiter(fleet, route, limit, clock));
    resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
        .datagramChannelType(transport.datagramChannel())
        .socketChannelType(transport.socketChannel()));
    Bootstrap upstreamTemplate = new Bootstrap()
        .channel(transport.clientChannel())
        .resolver(resolver)
        // No TCP_NODELAY option: Netty's socket configs (epoll and NIO) enable it when they are
        // made, and setting it again cost one setsockopt(2) per upstream connection.
        .option(ChannelOption.ALLOCATOR, Listener.ALLOCATOR)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, Listener.WATER_MARK)
        .handler(new UpstreamPipeline(64 * 1024));
    pools = new UpstreamPools(loops, upstreamTemplate, clock,
        address -> !retired.contains(address) && EndpointControl.retainsConnections(endpoints.find(address)));
    forward = new ForwardListeners(pools, resolver, metrics, bcrypt);
    listenerCompiler = new ListenerCompiler(current::get, pools, forward, clock);
    healthChecker = new ActiveHealthChecker(loops, this::connectProbe, clock);
    notify = SdNotify.fromEnvironment(group, transport);
    endpointControl = new EndpointControl(current::get, this::change, clock);
    PerClientLimits perClient = config.limits().perClient();
    limiter = new ConnectionLimiter(config.limits().maxConnections(), perClient == null ? 0 : perClient.connections());
  }

  /** Starts every listener of {@code config}; returns once all are bound. */
  public static GatehouseServer start(GatehouseConfig config) throws Exception {
    return start(config, false, () -> { });
  }

  /**
   * Starts every listener of {@code config}, and offers them on {@code handoff.socket} to a successor.
   *
   * @param takeover take the listening sockets of the instance running at {@code handoff.socket}
   *     (after everything else has started), then tell it to drain; without one, start normally
   * @param takenOver called once a successor accepts on this process's sockets: the caller then
   *     runs {@link #stop()}, the paced drain
   */
  public static GatehouseServer start(GatehouseConfig config, boolean takeover, Runnable takenOver) throws Exception {
    int threads = Integer.getInteger("gatehouse.threads", Runtime.getRuntime().availableProcessors());
    GatehouseServer server = new GatehouseServer(config, threads);
    try {
      server.startListeners(config, takeover);
      server.offerSockets(config, takenOver);
      server.notify.ready();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void startListeners(GatehouseConfig config, boolean takeover) throws Exception {
    Path handoffPath = config.handoff().socket();
    if (takeover && !transport.name().equals("epoll")) {
      throw new IllegalStateException("--takeover needs the epoll transport (Linux); this process uses "
          + transport.name());
    }
    if (takeover && handoffPath == null) {
      throw new IllegalStateException("--takeover needs handoff.socket (the embedded default has none; expected: -c FILE)");
    }
    if (!takeover && handoffPath != null && transport.name().equals("epoll")) {
      HandoffSocket.checkIsSocketOrAbsent(handoffPath);
      if (HandoffSocket.answers(handoffPath)) {
        throw new IllegalStateException("handoff.socket " + handoffPath + ": an instance runs there already"
            + " (expected: --takeover to replace it, or another handoff.socket)");
      }
    }
    startFleet(config);
    stateFile = new StateFile(config.state().file());
    Overrides loaded = stateFile.load();
    Overrides overrides = loaded.reconcile(config, why -> log.warn("override dropped at start: {}", why));
    if (!overrides.equals(loaded)) {
      stateFile.save(overrides);
    }
    if (config.accessLog().enabled()) {
      accessLog = new AccessLogWriter(config.accessLog().path());
      metrics.gauge("gatehouse_access_log_dropped", "Access-log lines dropped because the writer fell behind",
          accessLog::dropped);
    }
    observer = new ExchangeLog(metrics, config.accessLog(), accessLog, java.time.Clock.systemDefaultZone(), cohorts,
        fleet == null ? null : fleet.figures(cohorts));
    ListenerSet.Plan plan = listeners.plan(config.listeners());
    Snapshot first = compile(1, config, overrides, plan);
    current.set(first);
    applyAdminStates(first);
    healthChecker.update(current.get().upstreamClusters());
    if (fleet != null) {
      fleet.shareOverrides(current::get, this::applyFleet);
    }
    EndpointGauges.register(metrics, () -> current.get().upstreamClusters());
    metrics.gauge("gatehouse_config_generation", "Generation of the config in use", () -> current.get().generation());
    startDeployments();
    InheritedSockets inherited = SystemdSockets.fromEnvironment(transport);
    if (takeover) {
      awaitFirstHealthRound(HANDOFF_TIMEOUT);
      predecessor = HandoffClient.takeOver(handoffPath, group, HANDOFF_TIMEOUT);
      if (predecessor != null) {
        inherited = InheritedSockets.either(predecessor.sockets(), inherited);
      }
    }
    this.inherited = inherited;
    try {
      plan.bind((lc, key) -> bind(lc, key, first)).commit();
      if (config.admin() != null) {
        admin = AdminEndpoint.start(config.admin(), group, transport, inherited, metrics, this, clock);
        log.info("admin API on {}", admin.localAddress());
        if (fleet != null) {
          String adminAddress = admin.localAddress().getHostString() + ":" + admin.localAddress().getPort();
          fleet.beat(() -> fleet.self(adminAddress, current.get().generation()));
        }
      }
    } catch (Exception e) {
      if (predecessor != null) {
        predecessor.fail(e.getMessage());
        predecessor.close();
      }
      throw e;
    }
    this.inherited = InheritedSockets.NONE;
    if (predecessor != null) {
      try {
        predecessor.confirm();
        log.info("--takeover: accepting on the sockets taken over; the old instance drains");
      } finally {
        predecessor.close();
      }
    }
    metrics.gaugePerLabel("gatehouse_connections_active", "Open client connections", "listener",
        listeners::openConnections);
    // Asking for the TLS provider loads BoringSSL and the JDK's TLS classes (~10 MiB resident): only
    // when the config uses TLS; otherwise they load at the first reload that adds it, or never.
    log.info("Gatehouse started: transport {}, {} event loops, TLS provider {}",
        transport.name(), loops.size(), usesTls(config) ? TlsContexts.providerName() : "not loaded (no TLS configured)");
  }

  private static boolean usesTls(GatehouseConfig config) {
    return config.listeners().stream().anyMatch(l -> l.tls() != null)
        || config.clusters().stream().anyMatch(c -> c.tls() != null);
  }

  private void startFleet(GatehouseConfig config) throws InterruptedException {
    if (config.fleet() != null) {
      fleet = FleetMember.start(config.fleet(), metrics);
    }
  }

  /** The fleet's Redis link, or null without a {@code fleet} section. */
  public io.gatehouse.fleet.FleetClient fleet() {
    return fleet == null ? null : fleet.client();
  }

  FleetMember fleetMember() {
    return fleet;
  }

  private void startDeployments() {
    deployments = new DeploymentWiring(fleet, stateFile, current::get, this::change, cohorts, metrics, () -> draining);
  }

  io.gatehouse.deploy.DeploymentController deployments() {
    return deployments.controller();
  }

  /**
   * Before a takeover, waits (at most {@code bound}) until every health-checked endpoint has had its
   * first probe: the new process must not take traffic while it still believes nothing about its
   * upstreams, and the old one keeps serving meanwhile.
   */
  private void awaitFirstHealthRound(Duration bound) throws InterruptedException {
    List<io.gatehouse.upstream.EndpointState> checked = new ArrayList<>();
    for (Cluster cluster : current.get().upstreamClusters()) {
      if (cluster.healthCheck() != null) {
        cluster.endpoints().forEach(e -> checked.add(e.state()));
      }
    }
    long start = clock.getAsLong();
    long end = start + bound.toNanos();
    while (checked.stream().anyMatch(s -> s.health() == io.gatehouse.upstream.Health.STARTING)) {
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

  /** Offers this process's listening sockets to a successor on {@code handoff.socket} (epoll only). */
  private void offerSockets(GatehouseConfig config, Runnable takenOver) throws Exception {
    Path path = config.handoff().socket();
    if (path == null) {
      return;
    }
    if (!transport.name().equals("epoll")) {
      log.info("hand-off not offered: it needs the epoll transport (this process uses {})", transport.name());
      return;
    }
    handoff = HandoffServer.start(path, group, this::offeredSockets, pid -> {
      handedOff = true;
      takenOver.run();
    });
  }

  /** Every listening socket, the admin listener's too; none once a drain started. */
  private List<io.netty.channel.ServerChannel> offeredSockets() {
    if (draining) {
      return List.of();
    }
    List<io.netty.channel.ServerChannel> sockets = new ArrayList<>(listeners.serverChannels());
    if (admin != null) {
      sockets.add(admin.serverChannel());
    }
    return sockets;
  }

  /** A reload's or the start's generation: the config, its overrides, and its listeners by key. */
  private Snapshot compile(long generation, GatehouseConfig config, Overrides overrides, ListenerSet.Plan plan)
      throws Exception {
    Map<String, io.gatehouse.forward.ForwardSettings> forwardSettings = forward.compile(config);
    return compiler.compile(generation, config, overrides, forwardSettings,
        listenerCompiler.compile(config, plan.keys(), forwardSettings, observer));
  }

  /**
   * Binds {@code lc}. Its connections read their settings from the current generation's entry for
   * {@code key}; until {@code generation} (the one that binds it) is swapped in, from that one.
   */
  private Listener bind(ListenerConfig lc, ListenerKey key, Snapshot generation) throws Exception {
    CompiledListener own = generation.listeners().get(key);
    java.util.function.Supplier<io.gatehouse.listener.ListenerSettings> settings = () -> {
      CompiledListener now = current.get().listeners().get(key);
      return (now != null ? now : own).connection();
    };
    Listener listener = Listener.bind(lc, settings, group, transport.serverChannel(), inherited, connections,
        limiter, clock, new io.gatehouse.listener.ConnectionErrors(lc.name(), metrics, clock));
    log.info("listener {} ({}) on {}{}", lc.name(), lc.mode().name().toLowerCase(), listener.localAddress(),
        listener.inherited() ? " (socket inherited)" : "");
    return listener;
  }

  private static java.util.concurrent.ThreadPoolExecutor newBcryptExecutor() {
    java.util.concurrent.ThreadPoolExecutor executor = new java.util.concurrent.ThreadPoolExecutor(
        2, 2, 30, TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(256), r -> {
          Thread t = new Thread(r, "gatehouse-bcrypt");
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  /**
   * Swaps in a new config generation: load and validation already happened; here the new
   * snapshot is compiled, new listeners are bound first, listeners that stay (same address) keep
   * their sockets and take the new settings for new connections, and listeners no longer in the
   * config stop accepting and drain. If anything fails, the running config stays in use.
   * Health checks follow the new endpoint set, and endpoints no longer in any cluster are drained:
   * idle pooled connections close now, exchanges in flight finish and their connections close
   * after them. Reloads are serialized; {@code admin}, {@code accessLog} and
   * {@code limits.maxConnections} changes take effect at the next restart.
   */
  public void reload(GatehouseConfig config) throws Exception {
    List<io.gatehouse.deploy.DeploymentSpec> rollouts;
    synchronized (this) {
      notify.reloading();
      try {
        rollouts = reloadGeneration(config);
      } finally {
        notify.ready();
      }
    }
    deployments.startRollouts(rollouts); // after the change lock is released
  }

  /** @return the deployments the config's {@code rollout} asks for, to start once the reload is in place */
  private List<io.gatehouse.deploy.DeploymentSpec> reloadGeneration(GatehouseConfig config) throws Exception {
    ProcessSettings.refuseChanges(current.get().config(), config);
    reopenAccessLog(); // whatever the outcome: "reload" is what operators send after rotating
    Snapshot previous = current.get();
    List<String> dropped = new ArrayList<>();
    Set<String> running = deployments.runningRoutes();
    Rollouts.Plan rollouts = Rollouts.plan(previous, config, previous.overrides().reconcile(config, dropped::add), running,
        why -> log.info("reload: {}", why));
    Overrides overrides = rollouts.overrides();
    if (fleet != null) {
      fleet.keepLimitsOf(config);
    }
    ListenerSet.Plan plan = listeners.plan(config.listeners());
    // Compiled whole before anything changes: a bad certificate or htpasswd file refuses the reload.
    Snapshot next = compile(previous.generation() + 1, config, overrides, plan);
    ListenerSet.Change listenerChange = plan.bind((lc, key) -> bind(lc, key, next));
    swap(previous, next); // kept listeners' new connections, and every connection's next request, see it
    listenerChange.commit();
    for (String why : dropped) {
      log.info("reload: override dropped, {}", why);
    }
    if (!overrides.equals(previous.overrides())) {
      stateFile.save(overrides);
    }
    log.info("config generation {} in use", next.generation());
    return rollouts.deployments();
  }


  /**
   * Applies an operator's change as a new generation of the same config: compiled, swapped and
   * written to the state file. Serialized with reloads and other changes, so each change gets a
   * generation of its own and none is lost.
   *
   * <p>In a fleet the change is written to Redis first, outside the change lock (a reload or another
   * change never waits on Redis behind it); if the generation moved meanwhile (a reload, another
   * change, a fleet notice), the change is applied again over the new one: Redis holds both, as
   * field-level writes.
   *
   * @return the generation now in use
   */
  Snapshot change(java.util.function.UnaryOperator<Overrides> change) {
    if (fleet == null) {
      synchronized (this) {
        Snapshot previous = current.get();
        return install(previous, change.apply(previous.overrides()), "runtime change");
      }
    }
    Snapshot previous;
    Overrides overrides;
    synchronized (this) {
      previous = current.get();
      overrides = change.apply(previous.overrides());
    }
    long fleetVersion = fleet.write(previous.overrides(), overrides);
    synchronized (this) {
      Snapshot now = current.get();
      if (now != previous) {
        overrides = change.apply(now.overrides());
        if (overrides.equals(now.overrides())) {
          return now; // the fleet's notice of this very change applied it already
        }
      }
      return install(now, overrides, "runtime change, fleet version " + fleetVersion);
    }
  }

  /** Compiles {@code overrides} over {@code previous}'s config, swaps it in and saves the state; under the change lock. */
  private Snapshot install(Snapshot previous, Overrides overrides, String why) {
    Snapshot next = compiler.compile(previous.generation() + 1, previous.config(), overrides, previous.forward(),
        previous.listeners());
    swap(previous, next);
    stateFile.save(overrides);
    log.info("config generation {} in use ({})", next.generation(), why);
    return next;
  }

  /**
   * Applies the fleet's overrides, as read from Redis, as a new generation; nothing when they are
   * what runs already (this instance's own change coming back). What does not apply to this
   * instance's config (a route or endpoint it does not have) is left out here, kept in Redis.
   */
  private synchronized void applyFleet(Overrides fleetState, long version) {
    Snapshot previous = current.get();
    Overrides overrides = fleetState.reconcile(previous.config(), why -> log.debug("fleet override not applied: {}", why));
    if (overrides.equals(previous.overrides())) {
      return;
    }
    install(previous, overrides, "fleet change, version " + version);
  }

  /** The fleet version of the overrides in use; 0 without {@code fleet} or before the first read. */
  public long fleetVersion() {
    return fleet == null ? 0 : fleet.version();
  }

  UpstreamPools pools() {
    return pools;
  }

  Snapshot snapshot() {
    return current.get();
  }

  private void swap(Snapshot previous, Snapshot next) {
    current.set(next);
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
      io.gatehouse.upstream.EndpointState s = endpoints.stateFor(address);
      io.gatehouse.upstream.AdminState old = s.adminState();
      s.setAdminState(state, clock.getAsLong());
      if (state != io.gatehouse.upstream.AdminState.ACTIVE) {
        pools.closeIdle(address);
      }
      if (old != state) {
        log.info("endpoint {}: {} -> {} (generation {})", address, old, state, snapshot.generation());
      }
    });
  }

  /**
   * Reopens the access-log file (for log rotation: SIGUSR1, and every reload). The writer thread
   * does it; this returns at once.
   */
  public void reopenAccessLog() {
    if (accessLog != null) {
      accessLog.reopen();
    }
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

  /**
   * Probes connect like requests: through the pools' connect path with the peer spec of the
   * endpoint's cluster (its TLS), bounded by the probe's own timeout.
   */
  private io.netty.channel.ChannelFuture connectProbe(
      EventLoop loop, HostPort address, long timeoutNanos, io.netty.channel.ChannelHandler handler) {
    io.gatehouse.pool.PeerSpec spec = null;
    for (ClusterRuntime runtime : current.get().clusters().values()) {
      spec = runtime.peers().get(address);
      if (spec != null) {
        break;
      }
    }
    io.gatehouse.pool.UpstreamTls tls = spec == null ? null : spec.tls();
    io.gatehouse.config.ProxyProtocolVersion proxyProtocol = spec == null ? null : spec.proxyProtocol();
    return pools.connect(loop, new io.gatehouse.pool.PeerSpec(address, tls, 1, 0, 0, timeoutNanos, proxyProtocol), handler);
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
    return listeners.address(listener);
  }

  /** Open client connections per listener name. */
  Map<String, Long> openConnections() {
    return listeners.openConnections();
  }

  public InetSocketAddress adminAddress() {
    return admin == null ? null : admin.localAddress();
  }

  public String transportName() {
    return transport.name();
  }

  /** Stops with the paced drain of the running config ({@code limits}, per-listener {@code drainTimeout}). */
  public void stop() {
    stop(null);
  }

  /**
   * Stops accepting ({@code /ready} answers 503 from now), drains every client connection (see
   * {@link ConnectionDrain}), then closes what is left and releases the event loops.
   *
   * @param deadline the drain deadline for listeners without one of their own; {@code null} for
   *     {@code limits.drainTimeout}
   */
  public void stop(Duration deadline) {
    draining = true;
    notify.stopping();
    if (handoff != null) {
      handoff.close(handedOff);
    }
    listeners.closeAll();
    if (handedOff && admin != null) {
      admin.stopAccepting(); // the admin address went to the successor too: its /ready answers there
    }
    log.info(handedOff ? "handed off: no longer accepting, draining" : "stopping: no longer accepting, draining");
    drainConnections(deadline);
    close();
  }

  private void drainConnections(Duration deadline) {
    GatehouseConfig config = current.get().config();
    new ConnectionDrain(connections, clock).run(ch -> {
      ListenerConfig lc = listeners.owner(ch);
      if (lc != null && lc.drainTimeout() != null) {
        return lc.drainTimeout();
      }
      return deadline != null ? deadline : config.limits().drainTimeout();
    }, config.limits().closeSpread());
  }

  /** False from the moment a drain (stop or hand-off) starts. */
  public boolean ready() {
    return !draining;
  }

  /** Closes everything at once; a second call (after {@link #stop}) does nothing. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (deployments != null) {
      deployments.close();
    }
    healthChecker.close();
    if (handoff != null) {
      handoff.close(handedOff);
    }
    listeners.closeAll();
    if (admin != null) {
      admin.close();
    }
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    pools.closeAllIdle();
    resolver.close();
    bcrypt.shutdownNow();
    if (fleet != null) {
      fleet.close();
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    // After the loops: a channel's inactive handlers run after its close future completes, and
    // they write the access-log lines of the exchanges the close cut.
    if (accessLog != null) {
      accessLog.close();
    }
    log.info("Gatehouse stopped");
  }

  Class<? extends SocketChannel> socketChannelType() {
    return transport.socketChannel();
  }
}
