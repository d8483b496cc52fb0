package io.gatehouse.upstream;

import io.gatehouse.config.BalancerKind;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * Chooses the endpoint for one request. An instance belongs to one event loop and one cluster
 * generation: its cursors and counters are plain fields touched by that loop's thread only, so
 * it is deliberately not thread-safe and needs no locks or volatiles. Shared, cross-loop facts
 * (in-flight, latency, health) are read from {@link EndpointState}. The endpoint list is an
 * immutable snapshot; a reload builds new balancers.
 *
 * <p>Every implementation picks only endpoints that are available ({@link
 * EndpointState#isAvailable}), have a positive weight and are not excluded by the request.
 */
public interface LoadBalancer {

  /** The endpoint for this request, or {@code null} when none is usable (the caller answers 503). */
  Endpoint pick(PickContext ctx);

  /** Each usable endpoint in turn, ignoring weights. */
  static LoadBalancer roundRobin(List<Endpoint> endpoints) {
    return new RoundRobinBalancer(endpoints);
  }

  /** Smooth weighted round robin (nginx): proportional to weight, and evenly interleaved. */
  static LoadBalancer weighted(List<Endpoint> endpoints) {
    return new SmoothWeightedBalancer(endpoints, false, 0);
  }

  /** Fewest in-flight requests per unit of weight; power of two choices past a few endpoints. */
  static LoadBalancer leastRequest(List<Endpoint> endpoints, Random random) {
    return new LeastRequestBalancer(endpoints, random, 0);
  }

  /** Two random usable endpoints, the one with fewer in-flight requests (per weight) wins. */
  static LoadBalancer p2c(List<Endpoint> endpoints, Random random) {
    return new TwoChoicesBalancer(endpoints, random, Costs.inFlight(0));
  }

  /**
   * Lowest peak-EWMA latency x (in-flight + 1): slow endpoints get less. A full scan up to a few
   * endpoints, two random choices past that.
   */
  static LoadBalancer ewma(List<Endpoint> endpoints, Random random) {
    return new PeakEwmaBalancer(endpoints, random, 0);
  }

  /**
   * Maglev consistent hashing on {@link PickContext#hashKey()}: adding or removing one of N
   * endpoints remaps about 1/N of keys. Unusable targets fall through to the next distinct
   * endpoint in the table; a null key picks a random slot.
   */
  static LoadBalancer consistentHash(List<Endpoint> endpoints, Random random) {
    return new ConsistentHashBalancer(MaglevTable.build(endpoints), random);
  }

  /**
   * The balancer of {@code kind}, with slow start: an endpoint that came (back) into service
   * gets 10% of its weight, rising linearly to 100% over {@code slowStart} ({@code ZERO} = off).
   * Consistent hashing ignores slow start: moving keys away and back would break affinity.
   */
  static LoadBalancer of(
      BalancerKind kind, List<Endpoint> endpoints, Duration slowStart, Random random) {
    long window = slowStart == null ? 0 : Math.max(0, slowStart.toNanos());
    return Balancers.create(kind, endpoints, window, random, null);
  }
}
