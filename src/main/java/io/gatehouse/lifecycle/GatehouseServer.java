package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.deploy.CohortObserver;
import io.gatehouse.deploy.DeploymentController;
import io.gatehouse.fleet.FleetClient;
import io.gatehouse.health.EndpointGauges;
import io.gatehouse.listener.InheritedSockets;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.upstream.EndpointRegistry;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Gatehouse, and the owner of its parts' lifetimes: the event loops, the client side
 * ({@link ClientSide}: listeners, client connections, socket hand-off), the upstream side
 * ({@link UpstreamSide}: endpoints, pools, health checks), the generation switch
 * ({@link Generations}: the current {@link Snapshot}, reload and runtime changes), the admin API,
 * the access log, the deployments and the fleet. Starts them in order, answers for them to the
 * admin API, the CLI and tests, and stops them: the paced drain, then close.
 */
public final class GatehouseServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);

  private final Transport transport;
  private final MultiThreadIoEventLoopGroup group;
  private final List<EventLoop> loops;
  private final LongSupplier clock = TurnClock::nanoTime;
  private final ProxyMetrics metrics;
  private final UpstreamSide upstream;
  private final ClientSide clients;
  /** Verifies proxy passwords (bcrypt is deliberately slow) off the event loops; bounded queue. */
  private final ThreadPoolExecutor bcrypt = newBcryptExecutor();
  private final ForwardListeners forward;
  private final EndpointControl endpointControl;
  /** systemd's notification socket (Type=notify), when there is one. */
  private final SdNotify notify;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Per (route, cluster) figures for the deployment judge, fed by the {@link ExchangeLog}. */
  private final CohortObserver cohorts = new CohortObserver();
  /** The generation switch, from the start on (it needs the state file, the fleet and the access log). */
  private Generations generations;
  private AdminEndpoint admin;
  private AccessLogWriter accessLog;
  /** The deployments: store, controller, the judge's ticker. */
  private DeploymentWiring deployments;
  /** This instance in its fleet; null without a {@code fleet} section (then nothing of it exists). */
  private FleetMember fleet;

  private GatehouseServer(GatehouseConfig config, int threads) {
    transport = Transport.best();
    group = new MultiThreadIoEventLoopGroup(threads, TurnClock.loopThreads(), TurnClock.turns(transport.ioHandlerFactory()));
    loops = new ArrayList<>();
    for (EventExecutor executor : group) {
      loops.add((EventLoop) executor);
    }
    metrics = new ProxyMetrics(true);
    upstream = new UpstreamSide(transport, loops, this::snapshot, clock);
    forward = new ForwardListeners(upstream.pools(), upstream.resolver(), metrics, bcrypt);
    notify = SdNotify.fromEnvironment(group, transport);
    endpointControl = new EndpointControl(this::snapshot, this::change, clock);
    clients = new ClientSide(config, transport, group, metrics, this::snapshot, clock);
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
      server.startParts(config, takeover);
      server.clients.offer(config.handoff().socket(), server.admin == null ? null : server.admin.serverChannel(),
          takenOver);
      server.notify.ready();
    } catch (Exception e) {
      server.close();
      throw e;
    }
    return server;
  }

  private void startParts(GatehouseConfig config, boolean takeover) throws Exception {
    Path handoffPath = config.handoff().socket();
    clients.checkStart(handoffPath, takeover);
    if (config.fleet() != null) {
      fleet = FleetMember.start(config.fleet(), metrics);
    }
    StateFile stateFile = new StateFile(config.state().file());
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
    ExchangeLog observer = new ExchangeLog(metrics, config.accessLog(), accessLog,
        java.time.Clock.systemDefaultZone(), cohorts, fleet == null ? null : fleet.figures(cohorts));
    generations = new Generations(loops, clients, upstream, forward, observer, stateFile, fleet, notify,
        this::reopenAccessLog, clock);
    ListenerSet.Plan plan = clients.plan(config.listeners());
    Snapshot first = generations.start(config, overrides, plan);
    EndpointGauges.register(metrics, () -> snapshot().upstreamClusters());
    metrics.gauge("gatehouse_config_generation", "Generation of the config in use", this::generation);
    deployments = new DeploymentWiring(fleet, stateFile, this::snapshot, this::change, cohorts, metrics,
        clients::draining);
    if (takeover) {
      upstream.awaitFirstHealthRound(snapshot(), ClientSide.HANDOFF_TIMEOUT);
    }
    InheritedSockets inherited = clients.inherit(takeover ? handoffPath : null);
    try {
      plan.bind((lc, key) -> clients.bind(lc, key, first)).commit();
      if (config.admin() != null) {
        startAdmin(config, inherited);
      }
    } catch (Exception e) {
      clients.takeoverFailed(e);
      throw e;
    }
    clients.accepting(observer);
    // Asking for the TLS provider loads BoringSSL and the JDK's TLS classes (~10 MiB resident): only
    // when the config uses TLS; otherwise they load at the first reload that adds it, or never.
    log.info("Gatehouse started: transport {}, {} event loops, TLS provider {}",
        transport.name(), loops.size(), usesTls(config) ? TlsContexts.providerName() : "not loaded (no TLS configured)");
    String descriptors = DescriptorLimit.check(config.limits().maxConnections(), DescriptorLimit.ofThisProcess());
    if (descriptors != null) {
      // INFO, not WARN: common on a small machine and harmless below that many connections; the
      // listeners warn when it is reached (AcceptErrors).
      log.info(descriptors);
    }
  }

  private void startAdmin(GatehouseConfig config, InheritedSockets inherited) throws Exception {
    admin = AdminEndpoint.start(config.admin(), group, transport, inherited, metrics, this, clock);
    log.info("admin API on {}", admin.localAddress());
    if (fleet != null) {
      String adminAddress = admin.localAddress().getHostString() + ":" + admin.localAddress().getPort();
      fleet.beat(() -> fleet.self(adminAddress, generation()));
    }
  }

  private static boolean usesTls(GatehouseConfig config) {
    return config.listeners().stream().anyMatch(l -> l.tls() != null)
        || config.clusters().stream().anyMatch(c -> c.tls() != null);
  }

  private static ThreadPoolExecutor newBcryptExecutor() {
    ThreadPoolExecutor executor = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
      Thread t = new Thread(r, "gatehouse-bcrypt");
      t.setDaemon(true);
      return t;
    });
    executor.allowCoreThreadTimeOut(true);
    return executor;
  }

  /**
   * Swaps in a new config generation (see {@link Generations#reload}); if anything fails, the
   * running config stays in use. Reloads are serialized; {@code admin}, {@code accessLog} and
   * {@code limits.maxConnections} changes take effect at the next restart. The deployments the
   * config's {@code rollout}s ask for start once the change lock is released.
   */
  public void reload(GatehouseConfig config) throws Exception {
    deployments.startRollouts(generations.reload(config, deployments::runningRoutes));
  }

  /** An operator's change as a new generation; see {@link Generations#change}. */
  Snapshot change(UnaryOperator<Overrides> change) {
    return generations.change(change);
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

  /** The fleet's Redis link, or null without a {@code fleet} section. */
  public FleetClient fleet() {
    return fleet == null ? null : fleet.client();
  }

  FleetMember fleetMember() {
    return fleet;
  }

  /** The fleet version of the overrides in use; 0 without {@code fleet} or before the first read. */
  public long fleetVersion() {
    return fleet == null ? 0 : fleet.version();
  }

  DeploymentController deployments() {
    return deployments.controller();
  }

  UpstreamPools pools() {
    return upstream.pools();
  }

  Snapshot snapshot() {
    return generations.current();
  }

  /** Per-endpoint state and drain/enable/disable, for the admin API and tests. */
  public EndpointAdmin endpointAdmin() {
    return endpointControl;
  }

  public GatehouseConfig config() {
    return snapshot().config();
  }

  public long generation() {
    return snapshot().generation();
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public EndpointRegistry endpoints() {
    return upstream.endpoints();
  }

  /** The address a listener is bound to (its port when the config said port 0). */
  public InetSocketAddress address(String listener) {
    return clients.address(listener);
  }

  /** Open client connections per listener name. */
  Map<String, Long> openConnections() {
    return clients.openConnections();
  }

  public InetSocketAddress adminAddress() {
    return admin == null ? null : admin.localAddress();
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
    clients.startDraining();
    notify.stopping();
    clients.stopAccepting();
    boolean handedOff = clients.handedOff();
    if (handedOff && admin != null) {
      admin.stopAccepting(); // the admin address went to the successor too: its /ready answers there
    }
    log.info(handedOff ? "handed off: no longer accepting, draining" : "stopping: no longer accepting, draining");
    clients.drain(deadline, config());
    close();
  }

  /** False from the moment a drain (stop or hand-off) starts. */
  public boolean ready() {
    return !clients.draining();
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
    upstream.stopHealthChecks();
    clients.stopAccepting();
    if (admin != null) {
      admin.close();
    }
    clients.closeConnections();
    upstream.close();
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
}
