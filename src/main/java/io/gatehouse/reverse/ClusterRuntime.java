package io.gatehouse.reverse;

import io.gatehouse.pool.UpstreamTls;
import io.gatehouse.upstream.CircuitBreaker;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.LoadBalancer;
import io.gatehouse.upstream.RetryBudget;
import io.netty.channel.EventLoop;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster of one config generation with one balancer per event loop: balancers keep plain-field
 * state (cursors, rings), and each is used only by its own loop, so picking takes no lock.
 */
public final class ClusterRuntime {
  private final Cluster cluster;
  private final Map<EventLoop, LoadBalancer> balancers = new IdentityHashMap<>();
  private final long connectTimeoutNanos;
  private final long responseTimeoutNanos;
  private final RetryBudget retryBudget;
  private final CircuitBreaker breaker;
  private final UpstreamTls tls;

  public ClusterRuntime(Cluster cluster, List<EventLoop> loops) {
    this(cluster, loops, RetryBudget.defaults(), new CircuitBreaker(0), null);
  }

  /**
   * @param retryBudget and {@code breaker} outlive this generation (kept by cluster name), so a
   *     reload neither refills the budget nor forgets requests in flight
   * @param tls TLS to the endpoints, or null for plain HTTP
   */
  public ClusterRuntime(
      Cluster cluster, List<EventLoop> loops, RetryBudget retryBudget, CircuitBreaker breaker, UpstreamTls tls) {
    this.cluster = cluster;
    this.retryBudget = retryBudget;
    this.breaker = breaker;
    this.tls = tls;
    for (EventLoop loop : loops) {
      balancers.put(loop, cluster.newBalancer());
    }
    this.connectTimeoutNanos = cluster.config().timeouts().connect().toNanos();
    this.responseTimeoutNanos = cluster.config().timeouts().response().toNanos();
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

  LoadBalancer balancer(EventLoop loop) {
    return balancers.get(loop);
  }

  UpstreamTls tls() {
    return tls;
  }

  long connectTimeoutNanos() {
    return connectTimeoutNanos;
  }

  long responseTimeoutNanos() {
    return responseTimeoutNanos;
  }
}
