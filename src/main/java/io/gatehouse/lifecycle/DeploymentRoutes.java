package io.gatehouse.lifecycle;

import io.gatehouse.config.BackendRef;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.deploy.Backend;
import io.gatehouse.deploy.DeploymentController;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The deployment controller's view of the routes: each step is the same route-backends override
 * that {@code PUT /api/v1/routes/{name}/backends} makes, so a step is just a new generation.
 */
final class DeploymentRoutes implements DeploymentController.Routes {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DeploymentRoutes.class);
  private final Supplier<Snapshot> current;
  private final Function<UnaryOperator<Overrides>, Snapshot> change;

  DeploymentRoutes(Supplier<Snapshot> current, Function<UnaryOperator<Overrides>, Snapshot> change) {
    this.current = current;
    this.change = change;
  }

  @Override
  public List<Backend> backends(String route) {
    Snapshot snapshot = current.get();
    RouteConfig rc = route(snapshot, route);
    if (rc == null) {
      return null;
    }
    Overrides.Weights w = snapshot.overrides().weights().get(route);
    List<Backend> out = new ArrayList<>();
    for (BackendRef ref : w == null ? rc.backends() : w.backends()) {
      out.add(new Backend(ref.cluster(), ref.weight()));
    }
    return out;
  }

  @Override
  public boolean hasCluster(String cluster) {
    return current.get().clusters().containsKey(cluster);
  }

  @Override
  public String apply(String route, List<Backend> weights, boolean last, io.gatehouse.deploy.Split split) {
    String[] note = new String[1];
    try {
      applyChange(route, weights, last, split, note);
    } catch (io.gatehouse.admin.AdminException e) {
      if (e.status() == 503) { // the fleet's Redis is unreachable: nothing changed on any instance
        throw new io.gatehouse.deploy.StoreDownException(e.getMessage());
      }
      throw e;
    }
    return note[0];
  }

  private void applyChange(String route, List<Backend> weights, boolean last, io.gatehouse.deploy.Split split,
      String[] note) {
    change.apply(o -> {
      // Looked up inside the change, under the change lock (Generations): a reload cannot slip in.
      RouteConfig rc = route(current.get(), route);
      if (rc == null) {
        throw new IllegalStateException("route '" + route + "' is no longer in the config");
      }
      List<BackendRef> refs = new ArrayList<>();
      for (Backend b : weights) {
        if (!current.get().clusters().containsKey(b.cluster())) {
          throw new IllegalStateException("cluster '" + b.cluster() + "' is no longer in the config");
        }
        refs.add(new BackendRef(b.cluster(), b.weight()));
      }
      if (last && routesAlike(refs, rc.backends())) {
        return o.withoutWeights(route); // what the file says: no override left behind
      }
      if (last) {
        note[0] = note(route, refs, rc.backends());
        log.warn("{}", note[0]);
      }
      return o.withWeights(route, new Overrides.Weights(refs, rc.backends(), split));
    });
  }

  @Override
  public String endNote(String route, List<Backend> weights) {
    RouteConfig rc = route(current.get(), route);
    if (rc == null) {
      return null;
    }
    List<BackendRef> refs = new ArrayList<>();
    weights.forEach(b -> refs.add(new BackendRef(b.cluster(), b.weight())));
    return routesAlike(refs, rc.backends()) ? null : note(route, refs, rc.backends());
  }

  private static String note(String route, List<BackendRef> serving, List<BackendRef> file) {
    return "route " + route + " serves " + serving + " while the file says " + file
        + " (until a reload changes the route's backends, or an operator's weights)";
  }

  /** Same clusters with weight > 0, in the same order and proportions. */
  static boolean routesAlike(List<BackendRef> a, List<BackendRef> b) {
    List<BackendRef> x = a.stream().filter(r -> r.weight() > 0).toList();
    List<BackendRef> y = b.stream().filter(r -> r.weight() > 0).toList();
    if (x.size() != y.size()) {
      return false;
    }
    long sumX = x.stream().mapToLong(BackendRef::weight).sum();
    long sumY = y.stream().mapToLong(BackendRef::weight).sum();
    for (int i = 0; i < x.size(); i++) {
      if (!x.get(i).cluster().equals(y.get(i).cluster()) || x.get(i).weight() * sumY != y.get(i).weight() * sumX) {
        return false;
      }
    }
    return true;
  }

  private static RouteConfig route(Snapshot snapshot, String name) {
    return snapshot.config().routes().stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
  }
}
