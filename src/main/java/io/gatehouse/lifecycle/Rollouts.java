package io.gatehouse.lifecycle;

import io.gatehouse.config.BackendRef;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.RolloutConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.deploy.DeploymentSpec;
import io.gatehouse.deploy.Slo;
import io.gatehouse.deploy.Sticky;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The config form of deployments: a route with {@code rollout} whose backends a reload changes keeps
 * serving what it served (an override held against the file's new backends) and gets a deployment
 * to the new target, started once the reload is in place. The reload itself stays one generation.
 */
final class Rollouts {
  private Rollouts() {}

  /** A result of {@link #plan}: the overrides to compile and the deployments to start after the swap. */
  record Plan(Overrides overrides, List<DeploymentSpec> deployments) {}

  /**
   * @param previous the generation in use
   * @param reconciled the overrides that still apply to {@code next} (the file wins where it changed)
   * @param running routes with a running deployment
   * @throws ConfigException a change the rollout cannot guard: a deployment of the route still runs,
   *     or a cluster the route serves now is gone from the file
   */
  static Plan plan(Snapshot previous, GatehouseConfig next, Overrides reconciled, Set<String> running,
      Consumer<String> log) throws ConfigException {
    Map<String, RouteConfig> before = new HashMap<>();
    previous.config().routes().forEach(r -> before.put(r.name(), r));
    Set<String> clusters = new java.util.HashSet<>();
    next.clusters().forEach(c -> clusters.add(c.name()));
    String file = next.source() == null ? "" : next.source().toString();
    List<ConfigProblem> problems = new ArrayList<>();
    List<DeploymentSpec> deployments = new ArrayList<>();
    Overrides overrides = reconciled;
    for (int i = 0; i < next.routes().size(); i++) {
      RouteConfig rc = next.routes().get(i);
      RouteConfig old = before.get(rc.name());
      if (rc.rollout() == null || old == null || old.backends().equals(rc.backends())) {
        continue;
      }
      String path = "routes[" + i + "].backends";
      Overrides.Weights held = previous.overrides().weights().get(rc.name());
      List<BackendRef> serving = held == null ? old.backends() : held.backends();
      String target = soleTarget(rc.backends());
      if (target == null) {
        log.accept("route " + rc.name() + ": the file's new backends " + rc.backends() + " split traffic; a rollout "
            + "needs one cluster with weight > 0 (applied at once)");
        continue;
      }
      if (running.contains(rc.name())) {
        problems.add(new ConfigProblem(file, 0, 0, path, "route " + rc.name() + " has a running deployment "
            + "(expected: promote or roll it back before the file changes the route's backends)"));
        continue;
      }
      if (target.equals(soleTarget(serving))) {
        continue; // already what runs: nothing to guard (the file caught up, e.g. after a rollback)
      }
      for (BackendRef b : serving) {
        if (b.weight() > 0 && !clusters.contains(b.cluster())) {
          problems.add(new ConfigProblem(file, 0, 0, path, "cluster " + b.cluster() + " serves route " + rc.name()
              + " until its rollout to " + target + " promotes (expected: keep cluster " + b.cluster() + " in clusters)"));
        }
      }
      overrides = overrides.withWeights(rc.name(), new Overrides.Weights(serving, rc.backends()));
      deployments.add(spec(rc.name(), target, rc.rollout()));
      log.accept("route " + rc.name() + ": the file changes its backends to " + rc.backends() + "; a "
          + rc.rollout().strategy().name().toLowerCase(java.util.Locale.ROOT) + " rollout to " + target
          + " starts, and " + serving + " keep serving until it promotes");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new Plan(overrides, deployments);
  }

  /** The one cluster with weight > 0, or null when there are several. */
  static String soleTarget(List<BackendRef> backends) {
    String target = null;
    for (BackendRef b : backends) {
      if (b.weight() > 0) {
        if (target != null) {
          return null;
        }
        target = b.cluster();
      }
    }
    return target;
  }

  static DeploymentSpec spec(String route, String to, RolloutConfig r) {
    RolloutConfig.Sticky s = r.sticky();
    Sticky sticky = s == null ? null
        : s.cookie() != null ? Sticky.cookie(s.cookie())
        : s.header() != null ? Sticky.header(s.header())
        : Sticky.clientAddress();
    return new DeploymentSpec(route, to, DeploymentSpec.Strategy.valueOf(r.strategy().name()), r.steps(),
        r.interval().toMillis(), new Slo(r.slo().maxErrorRate(), r.slo().maxP99().toMillis(), r.slo().minRequests(),
            r.slo().vsBaseline()), DeploymentSpec.OnFailure.valueOf(r.onFailure().name()), sticky);
  }
}
