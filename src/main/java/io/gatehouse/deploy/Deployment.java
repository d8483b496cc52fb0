package io.gatehouse.deploy;

import java.util.ArrayList;
import java.util.List;

/**
 * One deployment as the API shows it and the store keeps it. Immutable; the controller makes a new
 * value for every change.
 *
 * @param step index into the walked steps of the share applied now; -1 before the first
 * @param weights the route's backends as the current step set them
 * @param from the route's backends before the deployment: where a rollback returns
 * @param nextJudgeAt epoch millis of the next verdict while progressing
 */
public record Deployment(String id, DeploymentState state, String route, String to, DeploymentSpec spec, int step,
    List<Backend> weights, List<Backend> from, List<HistoryEntry> history, long createdAt, long nextJudgeAt) {
  /**
   * One event of the deployment: a verdict (with its figures) or an operator action.
   *
   * @param percent the target's share when it happened
   * @param verdict null for an operator action
   */
  public record HistoryEntry(long at, int step, int percent, String event, Verdict verdict) {}

  public Deployment {
    weights = List.copyOf(weights);
    from = List.copyOf(from);
    history = List.copyOf(history);
  }

  /** The target's share now, percent. */
  public int percent() {
    return step < 0 ? 0 : spec.walk().get(step);
  }

  Deployment with(DeploymentState nextState, int nextStep, List<Backend> nextWeights, long nextJudge,
      HistoryEntry entry) {
    List<HistoryEntry> h = new ArrayList<>(history);
    if (entry != null) {
      h.add(entry);
    }
    return new Deployment(id, nextState, route, to, spec, nextStep, nextWeights, from, h, createdAt, nextJudge);
  }
}
