package io.gatehouse.lifecycle;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.gatehouse.deploy.Backend;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentSpec;
import io.gatehouse.deploy.Slo;
import io.gatehouse.deploy.Sticky;
import java.util.List;

/**
 * A deployment as the API answers it (DESIGN "Deployments"): {@code id, state, route, to, weights,
 * step, history}, plus what was asked for, durations written as the request writes them
 * ({@code "interval":"30s"}, {@code "maxP99":"500ms"}), and in millis beside them for scripts and the
 * dashboard ({@code intervalMillis}, {@code maxP99Millis}). {@code step} counts from 1 (0 before the first).
 *
 * @param sticky null (left out) when the deployment has none
 * @param judge in a fleet, the instance judging it (as last read); left out otherwise
 * @param waitingForStore a due step that cannot be written because the fleet's Redis is unreachable:
 *     the routes keep the last applied step; left out otherwise
 */
record DeploymentView(String id, String state, String route, String to, String strategy, List<Integer> steps,
    String interval, long intervalMillis, String onFailure, SloView slo, @JsonInclude(JsonInclude.Include.NON_NULL) Sticky sticky,
    int step, int percent, List<Backend> weights, List<Backend> from, List<Deployment.HistoryEntry> history,
    @JsonInclude(JsonInclude.Include.NON_NULL) String judge,
    @JsonInclude(JsonInclude.Include.NON_NULL) Waiting waitingForStore) {

  record SloView(double maxErrorRate, String maxP99, long maxP99Millis, long minRequests, boolean vsBaseline) {}

  /** Since when (ISO-8601 and epoch millis) and why. */
  record Waiting(String since, long sinceMillis, String reason) {}

  static DeploymentView of(Deployment d) {
    return of(d, null, null);
  }

  static DeploymentView of(Deployment d, String judge, Waiting waiting) {
    DeploymentSpec s = d.spec();
    Slo slo = s.slo();
    return new DeploymentView(d.id(), d.state().label(), d.route(), d.to(), s.strategy().label(), s.steps(),
        duration(s.intervalMillis()), s.intervalMillis(), s.onFailure().label(),
        new SloView(slo.maxErrorRate(), duration(slo.maxP99Millis()), slo.maxP99Millis(), slo.minRequests(),
            slo.vsBaseline()),
        s.sticky(), d.step() + 1, d.percent(), d.weights(), d.from(), d.history(), judge, waiting);
  }

  /** Millis in the largest of the config's units that writes them exactly: {@code 2m}, {@code 30s}, {@code 250ms}. */
  static String duration(long millis) {
    if (millis > 0 && millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    if (millis > 0 && millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }
}
