package io.gatehouse.lifecycle;

import io.gatehouse.config.HostPort;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Health;
import java.util.List;

/**
 * Operator-facing view and control of upstream endpoints, for the admin API
 * ({@code GET /api/v1/clusters/{name}}, {@code POST .../endpoints/{address}/{drain|enable|disable}}).
 * Reads and writes the live state of the config generation in use; thread-safe.
 *
 * <p>Admin state belongs to the address, like the rest of {@code EndpointState}: an address that is
 * a member of two clusters is drained in both, since it is one server.
 */
public interface EndpointAdmin {

  /** Names of the clusters of the config in use, in config order. */
  List<String> clusters();

  /** The endpoints of {@code cluster} in config order, or {@code null} when there is no such cluster. */
  List<EndpointView> endpoints(String cluster);

  /**
   * Stops sending new requests to the endpoint; requests in flight finish, idle pooled connections
   * close now and busy ones as their exchanges end. {@code false} when the cluster or the endpoint
   * is unknown.
   */
  boolean drain(String cluster, HostPort address);

  /** Puts the endpoint back in service (from draining or disabled). */
  boolean enable(String cluster, HostPort address);

  /** Takes the endpoint out of service like {@link #drain}; meant for longer than a deployment. */
  boolean disable(String cluster, HostPort address);

  /**
   * One endpoint as an operator sees it.
   *
   * @param available whether a balancer may pick it now (healthy, active, not ejected, weight > 0)
   * @param ewmaLatencyMillis recent (peak-EWMA) latency; 0 before its first response
   * @param errorRate moving share of failed requests over about the last 20, in {@code [0, 1]}
   */
  record EndpointView(
      HostPort address,
      int weight,
      Health health,
      AdminState adminState,
      boolean ejected,
      boolean available,
      long inFlight,
      double ewmaLatencyMillis,
      double errorRate,
      long requests,
      long failures) {}
}
