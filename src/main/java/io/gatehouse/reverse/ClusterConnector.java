package io.gatehouse.reverse;

import io.gatehouse.config.HostPort;
import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.Reason;
import io.gatehouse.pool.AcquireCallback;
import io.gatehouse.pool.BoundConnections;
import io.gatehouse.pool.ConnectFailures;
import io.gatehouse.pool.ConnectionPool;
import io.gatehouse.pool.UpstreamPool;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.pool.ProxyHeader;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.UpstreamConnector;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.LoadBalancer;
import io.gatehouse.upstream.PickContext;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Connects an exchange to an endpoint of a cluster: the balancer picks (never an endpoint this
 * request already tried), the endpoint's pool on this event loop connects, and the endpoint's
 * in-flight count and outcome are recorded for the balancers and outlier detection.
 */
final class ClusterConnector implements UpstreamConnector {
  private final ClusterRuntime cluster;
  private final Route route;
  private final EventLoop loop;
  private final UpstreamPools pools;
  private final String hashKey;
  /** Named in the PROXY header of clusters with {@code proxyProtocol}. */
  private final ClientAddress client;
  /** The client connection's own upstream connections, for clusters with {@code proxyProtocol}. */
  private final BoundConnections bound;
  private final boolean idempotent;
  private final LongSupplier clock;
  private final List<Endpoint> tried = new ArrayList<>(2);
  /** Endpoint whose in-flight count this exchange holds, or null. */
  private Endpoint counted;
  private UpstreamPool pool;
  private PeerSpec peer;
  private long attemptStart;
  /** Whether this request was counted in the retry budget's base (once, however many tries). */
  private boolean requestCounted;
  /** Whether the current attempt got a connection (so a timeout means the request was sent). */
  private boolean connected;
  private String label = "-";

  ClusterConnector(
      ClusterRuntime cluster, Route route, EventLoop loop, UpstreamPools pools, String hashKey,
      ClientAddress client, BoundConnections bound, boolean idempotent, LongSupplier clock) {
    this.client = client;
    this.bound = bound;
    this.cluster = cluster;
    this.route = route;
    this.loop = loop;
    this.pools = pools;
    this.hashKey = hashKey;
    this.idempotent = idempotent;
    this.clock = clock;
  }

  @Override
  public void connect(int attempt, boolean fresh, ConnectCallback callback) {
    Endpoint endpoint;
    connected = false;
    long now = clock.getAsLong();
    if (fresh && counted != null) {
      endpoint = counted; // replay after a stale pooled connection: same endpoint, new socket
    } else {
      if (!requestCounted) {
        requestCounted = true;
        cluster.retryBudget().onRequest(now);
      }
      LoadBalancer balancer = cluster.balancer(loop);
      endpoint = balancer.pick(PickContext.of(hashKey, now, triedAddresses()));
      if (endpoint == null && !tried.isEmpty()) {
        endpoint = balancer.pick(PickContext.of(hashKey, now)); // every endpoint tried: any will do
      }
      if (endpoint == null) {
        callback.failed(Reason.NO_ENDPOINT, null);
        return;
      }
      if (!cluster.breaker().tryAcquire()) {
        callback.failed(Reason.OVERLOADED, null); // circuit breaker: fail fast, never queue
        return;
      }
      tried.add(endpoint);
      endpoint.state().requestStarted();
      counted = endpoint;
    }
    attemptStart = now; // the pick is a few hundred nanoseconds: no second read of the clock
    label = endpoint.state().label();
    peer = cluster.peer(endpoint.address());
    pool = pools.get(loop, peer);
    AcquireCallback acquired = new AcquireCallback() {
      @Override
      public void acquired(Channel channel, boolean reused) {
        connected = true;
        callback.connected(channel, reused);
      }

      @Override
      public void failed(Throwable cause) {
        Reason reason = ConnectFailures.reason(cause);
        account(reason);
        callback.failed(reason, cause);
      }
    };
    if (peer.proxyProtocol() != null) {
      // The PROXY header names this client: only its own earlier connection may carry the request.
      ConnectionPool connections = (ConnectionPool) pool; // never HTTP/2 (the config refuses h2 with proxyProtocol)
      Channel own = fresh ? null : bound.take(peer, connections);
      if (own != null) {
        acquired.acquired(own, true);
      } else {
        connections.acquire(acquired, ProxyHeader.forClient(peer.proxyProtocol(), client));
      }
    } else {
      pool.acquire(acquired, !fresh);
    }
  }


  /**
   * Retries only what the route asks for, never past its attempts, and only while the cluster's
   * retry budget has room. A request that reached the upstream (reset, response timeout) is
   * retried only when idempotent (RFC 9110 §9.2.2); one that never left (connect failure or
   * connect timeout) always may be. No endpoint available, or the cluster's circuit breaker open,
   * is never retried: a retry now would find the same.
   */
  @Override
  public boolean mayRetry(int attempt, Reason failure) {
    if (attempt + 1 >= route.retries().attempts() || tried.size() >= cluster.cluster().endpoints().size()) {
      return false; // out of attempts, or no endpoint left that this request has not tried
    }
    RetryPolicy on = route.retries();
    boolean wanted;
    switch (failure) {
      case UPSTREAM_CONNECT_FAILED:
        wanted = on.onConnectFailure();
        break;
      case UPSTREAM_TIMEOUT:
        wanted = connected
            ? idempotent && on.onTimeout()
            : on.onConnectFailure() || on.onTimeout();
        break;
      case UPSTREAM_RESET:
        wanted = idempotent && on.onReset();
        break;
      default:
        wanted = false;
    }
    return wanted && cluster.retryBudget().tryRetry(clock.getAsLong());
  }

  /** Retries on a configured status ({@code "503"}, or {@code 5xx}); the relay checked the request is bodiless. */
  @Override
  public boolean mayRetryStatus(int attempt, int status) {
    if (attempt + 1 >= route.retries().attempts()) {
      return false;
    }
    return route.retries().retriesStatus(status) && cluster.retryBudget().tryRetry(clock.getAsLong());
  }

  @Override
  public void finish(Channel upstream, boolean reusable, Reason failure, int status) {
    if (upstream != null && pool != null) {
      if (reusable && peer.proxyProtocol() != null) {
        bound.keep(peer, upstream, (ConnectionPool) pool);
      } else if (reusable) {
        pool.release(upstream);
      } else {
        pool.discard(upstream);
      }
    }
    if (failure == Reason.OK && status == 0 && upstream != null && !reusable) {
      return; // stale pooled connection dropped before a replay: not an endpoint failure
    }
    account(failure == Reason.OK && status >= 500 ? Reason.UPSTREAM_BAD_RESPONSE : failure);
  }

  private void account(Reason failure) {
    Endpoint endpoint = counted;
    if (endpoint == null) {
      return;
    }
    counted = null;
    cluster.breaker().release();
    long now = clock.getAsLong();
    // Connect errors, resets, timeouts, bad responses and 5xx are the endpoint's failures and feed
    // outlier detection; a client leaving, a stalled or malformed or too large body, or our own full
    // pool are not.
    boolean failed = failure != Reason.OK && failure != Reason.CLIENT_ABORTED
        && failure != Reason.BODY_TOO_LARGE && failure != Reason.BODY_TIMEOUT && failure != Reason.CLIENT_TOO_SLOW && failure != Reason.MALFORMED
        && failure != Reason.OVERLOADED;
    endpoint.state().requestFinished(now - attemptStart, failed, now);
  }

  private java.util.Set<HostPort> triedAddresses() {
    if (tried.isEmpty()) {
      return java.util.Set.of();
    }
    java.util.Set<HostPort> set = new java.util.HashSet<>();
    for (Endpoint e : tried) {
      set.add(e.address());
    }
    return set;
  }

  @Override
  public String upstreamLabel() {
    return label;
  }

  HostPort lastAddress() {
    return tried.isEmpty() ? null : tried.get(tried.size() - 1).address();
  }
}
