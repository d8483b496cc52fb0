package io.gatehouse.lifecycle;

import io.gatehouse.config.HostPort;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.EndpointState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link EndpointAdmin} over the current {@link Snapshot} and the upstream pools. */
final class EndpointControl implements EndpointAdmin {
  private static final Logger log = LoggerFactory.getLogger(EndpointControl.class);

  private final Supplier<Snapshot> snapshot;
  private final UpstreamPools pools;
  private final LongSupplier clock;

  EndpointControl(Supplier<Snapshot> snapshot, UpstreamPools pools, LongSupplier clock) {
    this.snapshot = snapshot;
    this.pools = pools;
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
    Endpoint endpoint = runtime == null ? null : runtime.cluster().endpoint(address);
    if (endpoint == null) {
      return false;
    }
    AdminState old = endpoint.state().adminState();
    endpoint.state().setAdminState(target);
    if (target != AdminState.ACTIVE) {
      pools.closeIdle(address); // busy connections close on release: the pool asks retainsConnections
    }
    if (old != target) {
      log.info("endpoint {} of cluster {}: {} -> {}", address, cluster, old, target);
    }
    return true;
  }
}
