package io.gatehouse.upstream;

import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.EndpointConfig;
import io.gatehouse.config.HealthCheckConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * One config generation of a cluster, compiled from its {@link ClusterConfig} (which it does not
 * keep: runtime objects hold compiled values only): an immutable
 * endpoint list bound to the long-lived {@link EndpointState}s, the outlier policy, and (for
 * {@code consistent_hash}) the Maglev table shared by all event loops. Each event loop asks for
 * its own {@link #newBalancer()}.
 */
public final class Cluster {
  private final String name;
  private final BalancerKind balancer;
  private final HealthCheckConfig healthCheck;
  private final List<Endpoint> endpoints;
  private final long slowStartNanos;
  private final OutlierDetector outlier;
  private final MaglevTable maglev;
  private final LongSupplier nanoClock;

  private Cluster(
      ClusterConfig config,
      List<Endpoint> endpoints,
      long slowStartNanos,
      OutlierDetector outlier,
      LongSupplier nanoClock) {
    this.name = config.name();
    this.balancer = config.balancer();
    this.healthCheck = config.healthCheck();
    this.endpoints = endpoints;
    this.slowStartNanos = slowStartNanos;
    this.outlier = outlier;
    this.nanoClock = nanoClock;
    this.maglev =
        config.balancer() == BalancerKind.CONSISTENT_HASH ? MaglevTable.build(endpoints) : null;
  }

  /** As {@link #create(ClusterConfig, EndpointRegistry, LongSupplier, Duration)} without slow start. */
  public static Cluster create(
      ClusterConfig cfg, EndpointRegistry registry, LongSupplier nanoClock) {
    return create(cfg, registry, nanoClock, Duration.ZERO);
  }

  /**
   * Compiles {@code cfg} against {@code registry}. Without active health checks an endpoint has
   * nothing to wait for, so a {@link Health#STARTING} one is marked UP now (starting its slow
   * start). The new generation's outlier policy replaces the old one on every member.
   *
   * @param nanoClock {@code System::nanoTime} in production, a fake in tests
   * @param slowStart ramp-up window for endpoints coming (back) into service; {@code ZERO} = off
   */
  public static Cluster create(
      ClusterConfig cfg, EndpointRegistry registry, LongSupplier nanoClock, Duration slowStart) {
    Objects.requireNonNull(cfg, "cfg");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(nanoClock, "nanoClock");
    if (slowStart == null || slowStart.isNegative()) {
      throw new IllegalArgumentException("slowStart: " + slowStart + " (expected: >= 0)");
    }
    long now = nanoClock.getAsLong();
    List<Endpoint> endpoints = new ArrayList<>(cfg.endpoints().size());
    List<EndpointState> states = new ArrayList<>(cfg.endpoints().size());
    for (EndpointConfig ec : cfg.endpoints()) {
      EndpointState state = registry.stateFor(ec.address());
      if (cfg.healthCheck() == null && state.health() == Health.STARTING) {
        state.setHealth(Health.UP, now);
      }
      endpoints.add(new Endpoint(ec.address(), ec.weight(), state));
      states.add(state);
    }
    OutlierDetector outlier = cfg.outlier() == null ? null : new OutlierDetector(cfg.outlier(), states);
    for (EndpointState s : states) {
      s.attach(outlier);
    }
    return new Cluster(cfg, List.copyOf(endpoints), slowStart.toNanos(), outlier, nanoClock);
  }

  public String name() {
    return name;
  }

  public BalancerKind balancer() {
    return balancer;
  }

  public List<Endpoint> endpoints() {
    return endpoints;
  }

  /** What active health checks probe, or null when there are none (a value record, not live config). */
  public HealthCheckConfig healthCheck() {
    return healthCheck;
  }

  public Duration slowStart() {
    return Duration.ofNanos(slowStartNanos);
  }

  /** A balancer for the calling event loop; not thread-safe (see {@link LoadBalancer}). */
  public LoadBalancer newBalancer() {
    return newBalancer(new Random());
  }

  /** As {@link #newBalancer()} with the given randomness, for tests. */
  public LoadBalancer newBalancer(Random random) {
    return Balancers.create(balancer, endpoints, slowStartNanos, random, maglev);
  }

  /** Endpoints a balancer could pick now; 0 means every request gets a fast 503. */
  public int availableCount() {
    long now = nanoClock.getAsLong();
    int n = 0;
    for (Endpoint e : endpoints) {
      if (e.weight() > 0 && e.state().isAvailable(now)) {
        n++;
      }
    }
    return n;
  }

  /** Members currently ejected by passive outlier detection. */
  public int ejectedCount() {
    return outlier == null ? 0 : outlier.ejectedCount(nanoClock.getAsLong());
  }

  /** Most members outlier detection may eject at once; 0 when it is off. */
  public int maxEjected() {
    return outlier == null ? 0 : outlier.maxEjected();
  }

  /** The member at {@code address}, or {@code null}; for the admin API's per-endpoint actions. */
  public Endpoint endpoint(io.gatehouse.config.HostPort address) {
    for (Endpoint e : endpoints) {
      if (e.address().equals(address)) {
        return e;
      }
    }
    return null;
  }
}
