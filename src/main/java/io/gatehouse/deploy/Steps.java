package io.gatehouse.deploy;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a deployment does next, as a {@link Plan}: the record it becomes and the route weights that
 * go with it, for a verdict or an operator's action. Pure: it reads the routes' weights to refuse a
 * step over weights set outside the deployment, and writes nothing: the controller writes plans.
 */
final class Steps {
  private static final Logger log = LoggerFactory.getLogger(DeploymentController.class);

  /**
   * One change to one deployment, computed under the lock and written outside it: the record
   * {@code before} becomes {@code after} (compare-and-set), then the route gets {@code weights}
   * (null: the weights stay). {@code samples} go back to the carry when it could not be written.
   */
  record Plan(Deployment before, Deployment after, List<Backend> weights, boolean last, Split split,
      Sample[] samples, Verdict verdict, String event) {}

  private final DeploymentController.Routes routes;
  private final Clock clock;
  /** Told of each new step's record: its samples start afresh. */
  private final Consumer<Deployment> newStep;

  Steps(DeploymentController.Routes routes, Clock clock, Consumer<Deployment> newStep) {
    this.routes = routes;
    this.clock = clock;
    this.newStep = newStep;
  }

  /** The plan for a verdict that is not WAIT, judged on {@code samples}. */
  Plan verdict(Deployment d, Verdict v, Sample[] samples) {
    Plan p = switch (v.outcome()) {
      case WAIT -> throw new IllegalArgumentException("a WAIT verdict changes nothing but the next verdict time");
      case PASS -> d.step() == d.spec().walk().size() - 1
          ? promote(d, "passed: " + v.reason(), v)
          : moveTo(d, d.step() + 1, DeploymentState.PROGRESSING, "passed: " + v.reason(), v);
      case FAIL -> switch (d.spec().onFailure()) {
        case ROLLBACK -> rollback(d, "failed: " + v.reason(), v);
        case STEPBACK -> moveTo(d, Math.max(0, d.step() - 1), DeploymentState.PAUSED, "failed, stepped back: "
            + v.reason(), v);
        case PAUSE -> new Plan(d, d.with(DeploymentState.PAUSED, d.step(), d.weights(), d.nextJudgeAt(),
            entry(d, d.step(), "failed, paused: " + v.reason(), v)), null, false, null, null, v, "failed, paused");
      };
    };
    return new Plan(p.before(), p.after(), p.weights(), p.last(), p.split(), samples, v, p.event());
  }

  /** Too few requests: the same step, judged again one interval from now. */
  Plan waitMore(Deployment d, long now, Verdict v) {
    return new Plan(d, d.with(d.state(), d.step(), d.weights(), now + d.spec().intervalMillis(), null), null, false,
        null, null, v, "waits for more requests");
  }

  Plan pause(Deployment d) {
    return new Plan(d, d.with(DeploymentState.PAUSED, d.step(), d.weights(), d.nextJudgeAt(),
        entry(d, d.step(), "paused by operator", null)), null, false, null, null, null, "paused by operator");
  }

  Plan resume(Deployment d) {
    return new Plan(d, d.with(DeploymentState.PROGRESSING, d.step(), d.weights(),
        clock.millis() + d.spec().intervalMillis(), entry(d, d.step(), "resumed by operator", null)), null, false,
        null, null, null, "resumed by operator");
  }

  Plan failed(Deployment d, String why) {
    log.warn("deployment {} failed: {}", d.id(), why);
    return new Plan(d, d.with(DeploymentState.FAILED, d.step(), d.weights(), d.nextJudgeAt(),
        entry(d, d.step(), "failed: " + why, null)), null, false, null, null, null, "failed");
  }

  Plan moveTo(Deployment d, int step, DeploymentState state, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = weightsAt(d.from(), d.to(), d.spec().walk().get(step));
    Deployment next = d.with(state, step, weights, clock.millis() + d.spec().intervalMillis(), entry(d, d.step(), event, v));
    newStep.accept(next); // the new step is judged on its own traffic
    return new Plan(d, next, weights, false,
        d.spec().sticky() == null ? null : new Split(d.id(), d.to(), d.spec().sticky()), null, v, event);
  }

  Plan promote(Deployment d, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = List.of(new Backend(d.to(), 100));
    return new Plan(d, d.with(DeploymentState.PROMOTED, d.step(), weights, d.nextJudgeAt(),
        entry(d, d.step(), noted(event, d.route(), weights), v)), weights, true, null, null, v, event + "; promoted");
  }

  Plan rollback(Deployment d, String event, Verdict v) {
    if (touchedOutside(d)) {
      // Someone else set the weights since (an operator, or a reload that changed the route): theirs stay.
      log.warn("deployment {} rolled back without touching route {}: its weights changed outside the deployment",
          d.id(), d.route());
      return new Plan(d, d.with(DeploymentState.ROLLED_BACK, d.step(), d.weights(), d.nextJudgeAt(),
          entry(d, d.step(), event + " (weights changed outside the deployment: left as they are)", v)), null, true,
          null, null, v, event);
    }
    return new Plan(d, d.with(DeploymentState.ROLLED_BACK, d.step(), d.from(), d.nextJudgeAt(),
        entry(d, d.step(), noted(event, d.route(), d.from()), v)), d.from(), true, null, null, v, event + "; rolled back");
  }

  /** The event, with a note when the route will serve something else than its file says. */
  private String noted(String event, String route, List<Backend> weights) {
    String note = routes.endNote(route, weights);
    return note == null ? event : event + "; " + note;
  }

  /**
   * A step applies only over weights the deployment itself set: an operator's {@code PUT} or a
   * reload that changed the route's backends meanwhile wins, and the deployment fails (from
   * {@link #tick}) or the action is refused (409).
   */
  private void checkUntouched(Deployment d) {
    List<Backend> now = routes.backends(d.route());
    if (now == null) {
      throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + d.route()
          + "' is no longer in the config");
    }
    if (touchedOutside(d)) {
      throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + d.route()
          + "' weights changed outside the deployment: " + now + " (expected: " + d.weights() + ")");
    }
  }

  /**
   * Whether the route's weights are none the deployment set. Weights of one of its own steps (or
   * those from before it) count as its own: in a fleet the record may be ahead of the weights (a
   * step written while the store went down, or a notice not yet applied on this instance).
   */
  private boolean touchedOutside(Deployment d) {
    List<Backend> now = routes.backends(d.route());
    if (now == null || now.equals(d.weights()) || now.equals(d.from())) {
      return now == null;
    }
    for (int percent : d.spec().walk()) {
      if (now.equals(weightsAt(d.from(), d.to(), percent))) {
        return false;
      }
    }
    return true;
  }

  Deployment.HistoryEntry entry(Deployment d, int step, String event, Verdict v) {
    return new Deployment.HistoryEntry(clock.millis(), step, step < 0 ? 0 : d.spec().walk().get(step), event, v);
  }

  /**
   * The route's weights when the target has {@code percent}: the target gets percent x 100, the
   * previous backends share the rest in their old proportions (x 100 keeps small shares exact).
   */
  static List<Backend> weightsAt(List<Backend> from, String to, int percent) {
    long total = from.stream().filter(b -> !b.cluster().equals(to)).mapToLong(Backend::weight).sum();
    List<Backend> out = new ArrayList<>();
    for (Backend b : from) {
      if (!b.cluster().equals(to)) {
        out.add(new Backend(b.cluster(), (int) Math.round(b.weight() * (100.0 - percent) * 100 / total)));
      }
    }
    out.add(new Backend(to, percent * 100));
    return out;
  }
}
