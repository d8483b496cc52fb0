package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * A route's {@code rollout}: a reload that changes the route's backends starts a guarded deployment
 * to the new target instead of switching at once. The same fields, defaults and bounds as
 * {@code POST /api/v1/deployments}.
 *
 * @param sticky null when clients are not kept in their cohort
 */
public record RolloutConfig(Strategy strategy, List<Integer> steps, Duration interval, Slo slo, OnFailure onFailure,
    Sticky sticky) {
  public enum Strategy { CANARY, BLUEGREEN }

  public enum OnFailure { ROLLBACK, STEPBACK, PAUSE }

  public record Slo(double maxErrorRate, Duration maxP99, long minRequests, boolean vsBaseline) {
    static final Slo DEFAULT = new Slo(0.01, Duration.ofMillis(500), 100, true);
  }

  /**
   * @param cookie the cohort cookie's name, or null
   * @param header the header hashed into a cohort, or null
   * @param clientAddress the client address is hashed into a cohort
   */
  public record Sticky(String cookie, String header, boolean clientAddress) {}

  /** What a deployment gets for what neither its request nor its route's {@code rollout} says. */
  public static final RolloutConfig DEFAULT = new RolloutConfig(Strategy.CANARY, List.of(5, 25, 50, 100),
      Duration.ofSeconds(30), Slo.DEFAULT, OnFailure.ROLLBACK, null);

  public RolloutConfig {
    steps = List.copyOf(steps);
  }
}
