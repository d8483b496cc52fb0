package io.gatehouse.lifecycle;

import io.gatehouse.deploy.CohortObserver;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentController;
import io.gatehouse.deploy.DeploymentSpec;
import io.gatehouse.deploy.DeploymentStore;
import io.gatehouse.metrics.ProxyMetrics;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running server's deployments: where they are kept (the state file; Redis in a fleet), the
 * controller, the {@code gatehouse_deployment_state} gauge, and the thread that ticks the judge
 * every {@link #TICK_MILLIS}, off the event loops.
 */
final class DeploymentWiring implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);
  static final long TICK_MILLIS = 100;

  /**
   * Read by a reload (under the change lock) for the routes with a running deployment: the store
   * answers from memory, and never takes the controller's lock, which is taken before the change lock.
   */
  private final DeploymentStore store;
  private final DeploymentController controller;
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "gatehouse-deploy");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param fleet null without a {@code fleet} section
   * @param draining true once the process drains (stop or hand-off): it leaves the deployments to
   *     its successor
   */
  DeploymentWiring(FleetMember fleet, StateFile stateFile, Supplier<Snapshot> current,
      Function<UnaryOperator<Overrides>, Snapshot> change, CohortObserver cohorts, ProxyMetrics metrics,
      BooleanSupplier draining) {
    // In a fleet the deployments live in Redis and each is ticked by the holder of its judge lease.
    store = fleet != null ? fleet.deploymentStore()
        : DeploymentStore.persisting(stateFile.deployments(), stateFile::saveDeployments);
    controller = new DeploymentController(store, new DeploymentRoutes(current, change), cohorts, Clock.systemUTC(),
        fleet == null ? DeploymentController.Judges.ALL : fleet.judges());
    metrics.gaugeFamily("gatehouse_deployment_state",
        "Deployment state: 0 pending, 1 progressing, 2 paused, 3 promoted, 4 rolled_back, 5 failed",
        new String[] {"route", "id"}, sink -> controller.lastKnown().forEach(d -> sink.accept(d.state().code(), d.route(), d.id())));
    ticker.scheduleWithFixedDelay(() -> {
      try {
        if (!draining.getAsBoolean()) { // in a fleet, only the deployments whose lease this instance holds
          controller.tick();
        }
      } catch (RuntimeException e) {
        log.error("deployment tick failed", e); // a bug: the next tick tries again
      }
    }, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
  }

  DeploymentController controller() {
    return controller;
  }

  /** Routes with a running deployment, as last known. */
  Set<String> runningRoutes() {
    Set<String> running = new HashSet<>();
    store.all().stream().filter(d -> d.state().running()).forEach(d -> running.add(d.route()));
    return running;
  }

  /**
   * Starts the deployments a reload's {@code rollout}s ask for. Called after the change lock is
   * released: the controller takes its lock first, then the change lock.
   */
  void startRollouts(List<DeploymentSpec> rollouts) {
    for (DeploymentSpec spec : rollouts) {
      try {
        Deployment d = controller.start(spec);
        log.info("reload: rollout of route {} to {} is deployment {}", spec.route(), spec.to(), d.id());
      } catch (RuntimeException e) {
        log.warn("reload: rollout of route {} to {} did not start, the route keeps its backends: {}", spec.route(),
            spec.to(), e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
