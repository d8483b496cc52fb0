package io.gatehouse.upstream;

import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.EndpointConfig;
import io.gatehouse.config.HashOnConfig;
import io.gatehouse.config.HealthCheckConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.OutlierConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/** Endpoints, clusters and a hand-driven clock for balancer tests. */
final class Fixtures {
  private Fixtures() {}

  /** A nanosecond clock that only moves when told to; starts far from zero to catch overflow. */
  static final class FakeClock implements LongSupplier {
    private long now = Long.MAX_VALUE - Duration.ofHours(1).toNanos();

    @Override
    public long getAsLong() {
      return now;
    }

    long now() {
      return now;
    }

    void advance(Duration d) {
      now += d.toNanos();
    }
  }

  static HostPort addr(int i) {
    return new HostPort("10.0.0." + i, 8080);
  }

  /** Endpoints 10.0.0.1.. with the given weights, UP since {@code now} minus an hour. */
  static List<Endpoint> endpoints(long now, int... weights) {
    EndpointRegistry registry = new EndpointRegistry();
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      EndpointState s = registry.stateFor(addr(i + 1));
      s.setHealth(Health.UP, now - Duration.ofHours(1).toNanos());
      list.add(new Endpoint(s.address(), weights[i], s));
    }
    return list;
  }

  static ClusterConfig cluster(BalancerKind kind, OutlierConfig outlier, int... weights) {
    List<EndpointConfig> eps = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      eps.add(new EndpointConfig(addr(i + 1), weights[i]));
    }
    return new ClusterConfig(
        "c", kind, HashOnConfig.CLIENT_IP, eps, null, outlier, null, null, null, null, null);
  }

  static ClusterConfig withHealthCheck(ClusterConfig c) {
    HealthCheckConfig hc =
        new HealthCheckConfig("/healthz", Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 3, 200, 399, null);
    return new ClusterConfig(
        c.name(), c.balancer(), c.hashOn(), c.endpoints(), hc, c.outlier(), null, null, null, null, null);
  }

  /** How many of {@code picks} picks (no key, nothing excluded) went to each endpoint. */
  static Map<HostPort, Integer> tally(LoadBalancer lb, long now, int picks) {
    Map<HostPort, Integer> counts = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      Endpoint e = lb.pick(PickContext.of(null, now));
      counts.merge(e == null ? null : e.address(), 1, Integer::sum);
    }
    return counts;
  }
}
