package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one {@link EndpointState} per upstream address, shared by every cluster and every config
 * generation, so a reload keeps health, ejections and latency history. An address listed in two
 * clusters shares one state (it is one server); its outlier policy is the latest cluster's.
 */
public final class EndpointRegistry {
  private final Map<HostPort, EndpointState> states = new ConcurrentHashMap<>();

  /** The state of {@code address}, created ({@link Health#STARTING}, active) on first use. */
  public EndpointState stateFor(HostPort address) {
    Objects.requireNonNull(address, "address");
    return states.computeIfAbsent(address, EndpointState::new);
  }

  /** Forgets every address not in {@code live}; call after a reload with all clusters' addresses. */
  public void retainOnly(Collection<HostPort> live) {
    Set<HostPort> keep = new HashSet<>(live);
    states.keySet().removeIf(a -> !keep.contains(a));
  }

  /** The state of {@code address} if known, else {@code null}; for the admin API. */
  public EndpointState find(HostPort address) {
    return states.get(address);
  }

  public int size() {
    return states.size();
  }
}
