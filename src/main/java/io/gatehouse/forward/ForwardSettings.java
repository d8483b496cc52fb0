package io.gatehouse.forward;

import io.gatehouse.config.ForwardConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.config.HostPort;
import io.gatehouse.pool.PeerSpec;
import io.netty.resolver.AddressResolverGroup;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * A forward listener's compiled configuration, shared read-only by all its connections.
 *
 * @param auth null when no proxy authentication is required
 * @param forwardedHeader also add RFC 7239 {@code Forwarded} (the listener's {@code headers.forwarded})
 * @param tunnelIdleNanos a tunnel with no byte either way for this long is closed
 */
public record ForwardSettings(
    AccessPolicy policy,
    ProxyAuthenticator auth,
    boolean anonymize,
    boolean forwardedHeader,
    Set<Integer> connectPorts,
    boolean blockPrivateDestinations,
    AddressResolverGroup<InetSocketAddress> resolver,
    ProxyMetrics metrics,
    long connectTimeoutNanos,
    long responseTimeoutNanos,
    long tunnelIdleNanos,
    long maxIdleNanos,
    int maxConnectionsPerOrigin) {

  /** Compiles {@code listener}'s forward block; loads the htpasswd file (throws when unreadable). */
  public static ForwardSettings compile(
      ListenerConfig listener, AddressResolverGroup<InetSocketAddress> resolver, ProxyMetrics metrics, Executor bcryptExecutor, long tunnelIdleNanos) {
    ForwardConfig fc = listener.forward();
    ProxyAuthenticator auth = fc.auth() == null ? null : ProxyAuthenticator.load(fc.auth(), bcryptExecutor);
    return new ForwardSettings(
        AccessPolicy.compile(fc), auth, fc.anonymize(), listener.headers() != null && listener.headers().forwarded(),
        Set.copyOf(fc.connectPorts()), fc.blockPrivateDestinations(), resolver, metrics,
        fc.timeouts().connect().toNanos(), fc.timeouts().response().toNanos(), tunnelIdleNanos, fc.poolIdleTime().toNanos(), 1024);
  }

  /**
   * The pool key of an origin at {@code address} (plain TCP: a forward proxy never adds TLS; the
   * client's TLS, if any, goes through a tunnel). A reload that changes any of these settings gets
   * new pools, and the old ones are retired ({@link #poolsWith}).
   */
  public PeerSpec originPeer(HostPort address) {
    return new PeerSpec(address, null, maxConnectionsPerOrigin, 0, maxIdleNanos, connectTimeoutNanos);
  }

  /** The peer of a CONNECT tunnel's exclusive upstream connection at {@code address}. */
  PeerSpec tunnelPeer(HostPort address) {
    return new PeerSpec(address, null, 0, 0, 0, connectTimeoutNanos);
  }

  /** Whether {@code spec} is the key of an origin pool these settings open (any address). */
  public boolean poolsWith(PeerSpec spec) {
    return spec.equals(originPeer(spec.address()));
  }
}
