/**
 * Active health checking: {@link io.gatehouse.health.ActiveHealthChecker} probes every endpoint of
 * every cluster with a {@code healthCheck} (HTTP GET or TCP connect) on the event loops, and turns
 * rise/fall streaks into {@link io.gatehouse.upstream.EndpointState#setHealth}. Passive outlier
 * detection lives with the state itself in {@code upstream}; the relay feeds it through {@code
 * requestFinished}. {@link io.gatehouse.health.EndpointGauges} exports both as Prometheus gauges.
 */
package io.gatehouse.health;
