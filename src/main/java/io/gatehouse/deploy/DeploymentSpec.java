package io.gatehouse.deploy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;

/**
 * What an operator asked for: move {@code route} to cluster {@code to}.
 *
 * @param steps the target's share in percent at each step; ascending, ending at 100
 * @param intervalMillis how long each step is observed before the judge decides
 * @param sticky how clients keep their cohort while the split lasts; null: every request is picked anew
 */
public record DeploymentSpec(String route, String to, Strategy strategy, List<Integer> steps, long intervalMillis,
    Slo slo, OnFailure onFailure, Sticky sticky) {
  public enum Strategy {
    /** Weights walk the steps, one per interval while the judge passes. */
    CANARY,
    /** A small judged share first (the first step), then everything at once. */
    BLUEGREEN;

    @JsonValue
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Strategy of(String label) {
      return valueOf(label.toUpperCase(Locale.ROOT));
    }
  }

  public enum OnFailure {
    /** All traffic back to the previous backends at once. */
    ROLLBACK,
    /** One step back, then paused for an operator. */
    STEPBACK,
    /** Weights held where they are, paused for an operator. */
    PAUSE;

    @JsonValue
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static OnFailure of(String label) {
      return valueOf(label.toUpperCase(Locale.ROOT));
    }
  }

  public DeploymentSpec {
    steps = List.copyOf(steps);
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("steps: [] (expected: at least one step, ending at 100)");
    }
    int last = 0;
    for (int s : steps) {
      if (s <= last || s > 100) {
        throw new IllegalArgumentException("steps: " + steps + " (expected: ascending percentages in 1..100)");
      }
      last = s;
    }
    if (last != 100) {
      throw new IllegalArgumentException("steps: " + steps + " (expected: the last step is 100)");
    }
    if (intervalMillis < 100) {
      throw new IllegalArgumentException("interval: " + intervalMillis + "ms (expected: >= 100ms)");
    }
  }

  /** Without sticky cohorts. */
  public DeploymentSpec(String route, String to, Strategy strategy, List<Integer> steps, long intervalMillis, Slo slo,
      OnFailure onFailure) {
    this(route, to, strategy, steps, intervalMillis, slo, onFailure, null);
  }

  /** The shares the controller walks: every step for a canary; the first one, then 100, for blue/green. */
  List<Integer> walk() {
    return strategy == Strategy.BLUEGREEN && steps.size() > 1 ? List.of(steps.get(0), 100) : steps;
  }
}
