package io.gatehouse.fleet;

/** A fleet command refused at once because Redis is not reachable now; the caller keeps its last state. */
public final class FleetDownException extends io.gatehouse.deploy.StoreDownException {
  FleetDownException(String redis) {
    super("fleet: Redis " + redis + " is down");
  }
}
