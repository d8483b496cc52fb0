package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.deploy.DeploymentSpec;
import io.gatehouse.forward.ForwardSettings;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generation switch: the {@link Snapshot} in use, and every way a new one comes in (the start's
 * first, a reload, an operator's change, the fleet's notice), each one compile of (config,
 * overrides) swapped in whole; then what follows a swap (listeners bound or removed, the upstream
 * side following it, the state file). Registries that outlive generations stay with their owners
 * ({@link UpstreamSide}, the compiler's per-key state).
 *
 * <p>Reloads (signal handler, admin thread), changes (admin thread, deployment ticker) and fleet
 * notices (Redis client thread) come from different threads: they are serialized by this object's
 * monitor, the change lock, so each gets a generation of its own and none is lost. Lock order:
 * the deployment controller's lock, then the change lock, then the state file's. Readers never take
 * it: {@link #current()} is one volatile read.
 */
final class Generations {
  /** The server's lines keep its logger name. */
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);

  private final AtomicReference<Snapshot> current = new AtomicReference<>();
  private final SnapshotCompiler compiler;
  private final ListenerCompiler listenerCompiler;
  private final ForwardListeners forward;
  private final ExchangeLog observer;
  private final ClientSide clients;
  private final UpstreamSide upstream;
  /** Where overrides persist; fixed at start (a {@code state.file} change applies at restart). */
  private final StateFile stateFile;
  /** Null without a {@code fleet} section: then a change is this instance's alone. */
  private final FleetMember fleet;
  private final SdNotify notify;
  /** Reopens the access-log file: every reload does, for log rotation. */
  private final Runnable reopenAccessLog;

  Generations(List<EventLoop> loops, ClientSide clients, UpstreamSide upstream, ForwardListeners forward,
      ExchangeLog observer, StateFile stateFile, FleetMember fleet, SdNotify notify, Runnable reopenAccessLog,
      LongSupplier clock) {
    this.compiler = new SnapshotCompiler(upstream.endpoints(), loops, clock,
        (route, limit) -> FleetMember.limiter(fleet, route, limit, clock));
    this.listenerCompiler = new ListenerCompiler(current::get, upstream.pools(), forward, clock);
    this.forward = forward;
    this.observer = observer;
    this.clients = clients;
    this.upstream = upstream;
    this.stateFile = stateFile;
    this.fleet = fleet;
    this.notify = notify;
    this.reopenAccessLog = reopenAccessLog;
  }

  /** The generation in use; null before {@link #start}. */
  Snapshot current() {
    return current.get();
  }

  /**
   * Compiles and installs the first generation, whose listeners {@code plan} is to bind (the caller
   * binds them with it, after a takeover's wait). The start's thread, before anything else can change.
   */
  Snapshot start(GatehouseConfig config, Overrides overrides, ListenerSet.Plan plan) throws Exception {
    Snapshot first = compile(1, config, overrides, plan);
    current.set(first);
    upstream.start(first);
    if (fleet != null) {
      fleet.shareOverrides(current::get, this::applyFleet);
    }
    return first;
  }

  /**
   * Swaps in a new config generation: load and validation already happened; here the new
   * snapshot is compiled, new listeners are bound first, listeners that stay (same address) keep
   * their sockets and take the new settings for new connections, and listeners no longer in the
   * config stop accepting and drain. If anything fails, the running config stays in use.
   * Health checks follow the new endpoint set, and endpoints no longer in any cluster are drained:
   * idle pooled connections close now, exchanges in flight finish and their connections close
   * after them. Under the change lock.
   *
   * @param runningRoutes the routes with a running deployment, read under the lock
   * @return the deployments the config's {@code rollout} asks for, to start once the lock is released
   */
  synchronized List<DeploymentSpec> reload(GatehouseConfig config, Supplier<Set<String>> runningRoutes)
      throws Exception {
    notify.reloading();
    try {
      return reloadGeneration(config, runningRoutes);
    } finally {
      notify.ready();
    }
  }

  private List<DeploymentSpec> reloadGeneration(GatehouseConfig config, Supplier<Set<String>> runningRoutes)
      throws Exception {
    ProcessSettings.refuseChanges(current.get().config(), config);
    reopenAccessLog.run(); // whatever the outcome: "reload" is what operators send after rotating
    Snapshot previous = current.get();
    List<String> dropped = new ArrayList<>();
    Set<String> running = runningRoutes.get();
    Rollouts.Plan rollouts = Rollouts.plan(previous, config, previous.overrides().reconcile(config, dropped::add), running,
        why -> log.info("reload: {}", why));
    Overrides overrides = rollouts.overrides();
    if (fleet != null) {
      fleet.keepLimitsOf(config);
    }
    ListenerSet.Plan plan = clients.plan(config.listeners());
    // Compiled whole before anything changes: a bad certificate or htpasswd file refuses the reload.
    Snapshot next = compile(previous.generation() + 1, config, overrides, plan);
    ListenerSet.Change listenerChange = plan.bind((lc, key) -> clients.bind(lc, key, next));
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
  Snapshot change(UnaryOperator<Overrides> change) {
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

  /** Compiles {@code overrides} over {@code previous}'s config, swaps it in and saves the state; under the change lock. */
  private Snapshot install(Snapshot previous, Overrides overrides, String why) {
    Snapshot next = compiler.compile(previous.generation() + 1, previous.config(), overrides, previous.forward(),
        previous.listeners());
    swap(previous, next);
    stateFile.save(overrides);
    log.info("config generation {} in use ({})", next.generation(), why);
    return next;
  }

  /** A reload's or the start's generation: the config, its overrides, and its listeners by key. */
  private Snapshot compile(long generation, GatehouseConfig config, Overrides overrides, ListenerSet.Plan plan)
      throws Exception {
    Map<String, ForwardSettings> forwardSettings = forward.compile(config);
    return compiler.compile(generation, config, overrides, forwardSettings,
        listenerCompiler.compile(config, plan.keys(), forwardSettings, observer));
  }

  private void swap(Snapshot previous, Snapshot next) {
    current.set(next);
    upstream.follow(previous, next);
  }
}
