package io.gatehouse.reverse;

import io.gatehouse.config.HostPort;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.upstream.CircuitBreaker;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.LoadBalancer;
import io.gatehouse.upstream.RetryBudget;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpRequest;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster of one config generation with one balancer per event loop: balancers keep plain-field
 * state (cursors, rings), and each is used only by its own loop, so picking takes no lock. Holds
 * only compiled values: the peer spec of each endpoint (the pool key), the response timeout and
 * the hash key extractor.
 */
public final class ClusterRuntime {
  private final Cluster cluster;
  private final Map<EventLoop, LoadBalancer> balancers = new IdentityHashMap<>();
  private final Map<HostPort, PeerSpec> peers;
  private final long responseTimeoutNanos;
  private final RequestKey hashKey;
  private final RetryBudget retryBudget;
  private final CircuitBreaker breaker;

  /**
   * @param retryBudget and {@code breaker} outlive this generation (kept by cluster name), so a
   *     reload neither refills the budget nor forgets requests in flight
   * @param peers the spec of every endpoint of {@code cluster}
   * @param hashKey the {@code consistent_hash} key, or null for other balancers
   */
  public ClusterRuntime(
      Cluster cluster, List<EventLoop> loops, RetryBudget retryBudget, CircuitBreaker breaker,
      Map<HostPort, PeerSpec> peers, long responseTimeoutNanos, RequestKey hashKey) {
    this.cluster = cluster;
    this.retryBudget = retryBudget;
    this.breaker = breaker;
    this.peers = Map.copyOf(peers);
    this.responseTimeoutNanos = responseTimeoutNanos;
    this.hashKey = hashKey;
    for (Endpoint e : cluster.endpoints()) {
      if (!this.peers.containsKey(e.address())) {
        throw new IllegalArgumentException("peers: no spec for " + e.address() + " (expected: one per endpoint)");
      }
    }
    for (EventLoop loop : loops) {
      balancers.put(loop, cluster.newBalancer());
    }
  }

  public Cluster cluster() {
    return cluster;
  }

  public String name() {
    return cluster.name();
  }

  public RetryBudget retryBudget() {
    return retryBudget;
  }

  public CircuitBreaker breaker() {
    return breaker;
  }

  /** The peer specs of this generation's endpoints (pool keys). */
  public Map<HostPort, PeerSpec> peers() {
    return peers;
  }

  LoadBalancer balancer(EventLoop loop) {
    return balancers.get(loop);
  }

  PeerSpec peer(HostPort address) {
    return peers.get(address);
  }

  String hashKey(HttpRequest request, String clientIp) {
    return hashKey == null ? null : hashKey.of(request, clientIp);
  }

  long responseTimeoutNanos() {
    return responseTimeoutNanos;
  }
}
