package io.gatehouse.lifecycle;

import io.gatehouse.config.HostPort;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.EndpointState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * {@link EndpointAdmin} over the current {@link Snapshot}: every drain, enable or disable is an
 * override and so a new generation (applied and persisted by {@link Generations#change}).
 */
final class EndpointControl implements EndpointAdmin {

  private final Supplier<Snapshot> snapshot;
  private final Function<UnaryOperator<Overrides>, Snapshot> change;
  private final LongSupplier clock;

  /** @param change applies an override change as a new generation (serialized by the change lock) */
  EndpointControl(Supplier<Snapshot> snapshot, Function<UnaryOperator<Overrides>, Snapshot> change, LongSupplier clock) {
    this.snapshot = snapshot;
    this.change = change;
    this.clock = clock;
  }

  /** Whether pooled connections to {@code state}'s address may be kept after an exchange. */
  static boolean retainsConnections(EndpointState state) {
    return state == null || state.adminState() == AdminState.ACTIVE;
  }

  @Override
  public List<String> clusters() {
    return List.copyOf(snapshot.get().clusters().keySet());
  }

  @Override
  public List<EndpointView> endpoints(String cluster) {
    ClusterRuntime runtime = snapshot.get().clusters().get(cluster);
    if (runtime == null) {
      return null;
    }
    long now = clock.getAsLong();
    List<EndpointView> views = new ArrayList<>();
    for (Endpoint e : runtime.cluster().endpoints()) {
      EndpointState s = e.state();
      views.add(new EndpointView(e.address(), e.weight(), s.health(), s.adminState(), s.isEjected(now),
          e.weight() > 0 && s.isAvailable(now), s.inFlight(), s.ewmaLatencyNanos() / 1e6,
          s.recentErrorRate(), s.totalRequests(), s.totalFailures()));
    }
    return views;
  }

  @Override
  public boolean drain(String cluster, HostPort address) {
    return setAdminState(cluster, address, AdminState.DRAINING);
  }

  @Override
  public boolean enable(String cluster, HostPort address) {
    return setAdminState(cluster, address, AdminState.ACTIVE);
  }

  @Override
  public boolean disable(String cluster, HostPort address) {
    return setAdminState(cluster, address, AdminState.DISABLED);
  }

  private boolean setAdminState(String cluster, HostPort address, AdminState target) {
    ClusterRuntime runtime = snapshot.get().clusters().get(cluster);
    if (runtime == null || runtime.cluster().endpoint(address) == null) {
      return false;
    }
    change.apply(o -> o.withEndpoint(new Overrides.EndpointKey(cluster, address), target));
    return true;
  }
}
