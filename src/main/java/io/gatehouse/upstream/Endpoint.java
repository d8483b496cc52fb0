package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;

/**
 * One endpoint of one cluster generation: its configured weight and the long-lived state shared
 * across generations. Weight {@code <= 0} means the endpoint is never picked.
 */
public record Endpoint(HostPort address, int weight, EndpointState state) {

  /** Whether this request may be sent here now: available and not already tried by it. */
  boolean usableFor(PickContext ctx) {
    return weight > 0 && state.isAvailable(ctx.nowNanos()) && !ctx.isExcluded(this);
  }
}
