package io.gatehouse.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.gatehouse.config.ConfigProblem;
import java.util.List;

/**
 * What the admin API needs from the running proxy; declared here, implemented by {@code lifecycle},
 * so {@code admin} knows nothing of the data path. Every method may block (a reload, a state-file
 * write): the API calls them off the event loops. Changes are serialized by the implementation;
 * each one is a new config generation.
 */
public interface AdminBackend {
  /** Prometheus text exposition. */
  String metricsText();

  /** True while the proxy accepts traffic. */
  boolean ready();

  /** Current config generation. */
  long generation();

  /** Re-reads the config file: the new generation, or every problem (the running one stays). */
  ReloadResult reload();

  /** The running config as JSON with secrets redacted, and the overrides layered on it. */
  JsonNode config();

  List<ListenerView> listeners();

  List<RouteView> routes();

  List<ClusterView> clusters();

  /** @throws AdminException 404 when there is no such cluster */
  ClusterView cluster(String name);

  /**
   * Changes an endpoint's admin state ({@code draining}, {@code active}, {@code disabled}).
   *
   * @throws AdminException 404 naming the unknown cluster or endpoint
   */
  EndpointChange setEndpointState(String cluster, String address, String state);

  /** Requests in flight to the endpoint now. */
  long inFlight(String cluster, String address);

  /**
   * Replaces a route's backend weights.
   *
   * @throws AdminException 404 for an unknown route; 400 naming the field for a negative weight,
   *     all weights zero, or an unknown cluster
   */
  long setWeights(String route, List<BackendWeight> backends);

  /**
   * This instance in its fleet: Redis up/down since when, the fleet version, every instance's last
   * heartbeat.
   *
   * @throws AdminException 404 without a {@code fleet} section
   */
  JsonNode fleet();

  /** Every deployment, as {@code GET /api/v1/deployments} shows them: from memory, never waiting on Redis. */
  JsonNode deployments();

  /**
   * How old {@link #deployments} is: seconds since the list was read from the fleet's store; -1
   * when the deployments are this instance's own (no fleet), always current.
   */
  default long deploymentsAgeSeconds() {
    return -1;
  }

  /** @throws AdminException 404 for an unknown id */
  JsonNode deployment(String id);

  /**
   * Starts a deployment; its first step applies now.
   *
   * @throws AdminException 404 unknown route or cluster, 409 the route already has a running one
   */
  JsonNode startDeployment(DeploymentRequest request);

  /**
   * {@code promote}, {@code pause}, {@code resume} or {@code rollback}.
   *
   * @throws AdminException 404 unknown id, 409 a deployment that has ended
   */
  JsonNode deploymentAction(String id, String action);

  /**
   * A parsed {@code POST /api/v1/deployments} body. Every field but {@code route} and {@code to} is
   * null when the body left it out: the route's {@code rollout} (or the built-in default) applies.
   */
  record DeploymentRequest(String route, String to, String strategy, List<Integer> steps, Long intervalMillis,
      Double maxErrorRate, Long maxP99Millis, Long minRequests, Boolean vsBaseline, String onFailure, Sticky sticky) {}

  /**
   * A deployment's {@code sticky} rule.
   *
   * @param kind {@code cookie}, {@code header} or {@code clientAddress}
   * @param name the cookie's or header's name; null for {@code clientAddress}
   */
  record Sticky(String kind, String name) {}

  record ReloadResult(long generation, List<ConfigProblem> problems) {}

  /** @param warning set when the change leaves the cluster without an active endpoint */
  record EndpointChange(long generation, String address, String state, String warning) {}

  record BackendWeight(String cluster, int weight) {}

  /**
   * One listener as it runs.
   *
   * @param bind as configured; {@code address} as bound (the real port when the config said 0)
   * @param alpn the protocols a TLS listener offers; null for a cleartext one
   * @param connections client connections open now
   */
  record ListenerView(String name, String mode, String bind, String address, List<String> alpn, long connections) {}

  /** @param overridden whether the weights come from a runtime override rather than the file */
  record RouteView(String name, List<BackendWeight> backends, boolean overridden) {}

  record ClusterView(String name, String balancer, List<EndpointView> endpoints) {}

  /**
   * One endpoint as an operator sees it.
   *
   * @param health up, down or starting
   * @param adminState active, draining or disabled
   * @param connections open pooled connections to it (busy and idle)
   * @param p50Millis and {@code p99Millis}, {@code errorRate}: over about the last minute
   */
  record EndpointView(
      String address, int weight, String health, String adminState, boolean ejected, long inFlight,
      long connections, long requestsLastMinute, double p50Millis, double p99Millis, double errorRate) {}
}
