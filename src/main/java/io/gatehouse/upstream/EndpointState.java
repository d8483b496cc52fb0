package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;
import java.util.concurrent.atomic.AtomicLong;

/** TEMPORARY stub; replaced by the upstream branch. */
public final class EndpointState {
  public enum Health { UP, DOWN, STARTING }
  public enum AdminState { ACTIVE, DRAINING, DISABLED }
  private final HostPort address;
  private volatile Health health = Health.UP;
  private volatile AdminState admin = AdminState.ACTIVE;
  private final AtomicLong inFlight = new AtomicLong();
  public EndpointState(HostPort address) { this.address = address; }
  public HostPort address() { return address; }
  public Health health() { return health; }
  public AdminState adminState() { return admin; }
  public void setAdminState(AdminState s) { admin = s; }
  public void setHealth(Health h, long now) { health = h; }
  public long inFlight() { return inFlight.get(); }
  public void requestStarted() { inFlight.incrementAndGet(); }
  public void requestFinished(long latencyNanos, boolean failure, long nowNanos) { inFlight.decrementAndGet(); }
  public boolean isAvailable(long nowNanos) { return health != Health.DOWN && admin == AdminState.ACTIVE; }
}
