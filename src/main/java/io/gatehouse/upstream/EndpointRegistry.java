package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/** TEMPORARY stub. */
public final class EndpointRegistry {
  private final ConcurrentHashMap<HostPort, EndpointState> states = new ConcurrentHashMap<>();
  public EndpointState stateFor(HostPort a) { return states.computeIfAbsent(a, EndpointState::new); }
  public void retainOnly(Collection<HostPort> live) { states.keySet().retainAll(live); }
}
