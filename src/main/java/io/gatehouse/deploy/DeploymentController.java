package io.gatehouse.deploy;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs deployments: applies each step's weights, asks the {@link Judge} once per interval, and
 * advances, promotes or reacts to a breach ({@code onFailure}). Pure logic with an injected clock;
 * the owner calls {@link #tick()} often (every ~100 ms) from one thread, and the admin API calls
 * the rest. Not on the data path, so its methods simply synchronize.
 */
public final class DeploymentController {
  private static final Logger log = LoggerFactory.getLogger(DeploymentController.class);

  /** What the controller needs of the running proxy. */
  public interface Routes {
    /** The route's backends in use now; null for an unknown route. */
    List<Backend> backends(String route);

    boolean hasCluster(String cluster);

    /**
     * Sets the route's weights as {@code PUT /api/v1/routes/{name}/backends} does: a runtime override
     * and a new config generation. {@code last} says the deployment ends with these weights (promoted
     * or rolled back), so the override may be dropped when they route as the file does. {@code split}
     * says which cluster is the target and how clients keep their cohort, for a step of a deployment
     * with sticky cohorts; null otherwise (and when the deployment ends: stickiness ends with it).
     *
     * @return a note for the history when the route now serves something else than the file says
     *     (a rolled-back rollout of the config form), or null
     */
    String apply(String route, List<Backend> weights, boolean last, Split split);
  }

  /**
   * Which deployments this instance judges. Alone, all of them; in a fleet, those whose judge lease
   * it holds (one lease per deployment, so two deployments may be judged by two instances).
   */
  public interface Judges {
    Judges ALL = new Judges() {
      @Override
      public boolean judges(String id) {
        return true;
      }

      @Override
      public void claim(String id) {
      }
    };

    boolean judges(String id);

    /** Claims the judging of a deployment this instance is starting, before its record exists. */
    void claim(String id);
  }

  public enum Action { PROMOTE, PAUSE, RESUME, ROLLBACK }

  private final DeploymentStore store;
  private final Routes routes;
  private final CohortObserver observer;
  private final Clock clock;
  private final Judges judges;
  /** The running deployments this instance judged at the last tick: a new one starts on fresh samples. */
  private final Set<String> judging = new HashSet<>();
  /** Samples of a step that waits for more requests, carried into the next interval. */
  private final Map<String, Sample[]> pending = new HashMap<>();
  private long sequence;

  public DeploymentController(DeploymentStore store, Routes routes, CohortObserver observer, Clock clock) {
    this(store, routes, observer, clock, Judges.ALL);
  }

  public DeploymentController(DeploymentStore store, Routes routes, CohortObserver observer, Clock clock,
      Judges judges) {
    this.store = store;
    this.routes = routes;
    this.observer = observer;
    this.clock = clock;
    this.judges = judges;
    store.all().stream().filter(d -> d.state().running()).forEach(d -> judging.add(d.id()));
    watch();
  }

  public synchronized List<Deployment> all() {
    return store.all();
  }

  /**
   * The deployments as last read, for a metrics scrape: neither a store round trip (Redis, which
   * may be slow or paused) nor this controller's lock (held by a tick waiting on that store).
   */
  public List<Deployment> lastKnown() {
    return store.lastKnown();
  }

  public synchronized Deployment get(String id) {
    return store.all().stream().filter(d -> d.id().equals(id)).findFirst()
        .orElseThrow(() -> new DeploymentException(DeploymentException.Kind.NOT_FOUND, "id", "no deployment '" + id + "'"));
  }

  /** Starts a deployment: the first step's weights apply now. */
  public synchronized Deployment start(DeploymentSpec spec) {
    List<Backend> from = routes.backends(spec.route());
    if (from == null) {
      throw new DeploymentException(DeploymentException.Kind.NOT_FOUND, "route", "no route '" + spec.route() + "'");
    }
    if (!routes.hasCluster(spec.to())) {
      throw new DeploymentException(DeploymentException.Kind.NOT_FOUND, "to", "no cluster '" + spec.to() + "'");
    }
    for (Deployment d : store.all()) {
      if (d.route().equals(spec.route()) && d.state().running()) {
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + spec.route()
            + "' already has deployment " + d.id() + " " + d.state().label() + " (expected: promote or roll it back first)");
      }
    }
    if (from.stream().noneMatch(b -> !b.cluster().equals(spec.to()) && b.weight() > 0)) {
      throw new DeploymentException(DeploymentException.Kind.BAD_REQUEST, "to", "route '" + spec.route()
          + "' sends nothing to a cluster other than '" + spec.to() + "' (expected: a target that is not what runs now)");
    }
    long now = clock.millis();
    String id = spec.route() + "-" + Long.toString(now, 36) + "-" + (++sequence);
    judges.claim(id);
    judging.add(id);
    Deployment d = new Deployment(id, DeploymentState.PENDING, spec.route(), spec.to(), spec, -1, from, from,
        List.of(), now, now);
    store.put(d);
    log.info("deployment {} of route {} to {}: {} steps {} every {}ms, onFailure {}, sticky {}", id, spec.route(),
        spec.to(), spec.strategy().label(), spec.walk(), spec.intervalMillis(), spec.onFailure().label(),
        spec.sticky() == null ? "none" : spec.sticky());
    d = moveTo(d, 0, DeploymentState.PROGRESSING, "started", null);
    return d;
  }

  public synchronized Deployment act(String id, Action action) {
    Deployment d = get(id);
    if (!d.state().running()) {
      throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id + " is "
          + d.state().label() + " (expected: pending, progressing or paused)");
    }
    return switch (action) {
      case PROMOTE -> promote(d, "promoted by operator", null);
      case ROLLBACK -> rollback(d, "rolled back by operator", null);
      case PAUSE -> save(d.with(DeploymentState.PAUSED, d.step(), d.weights(), d.nextJudgeAt(),
          entry(d, d.step(), "paused by operator", null)));
      case RESUME -> {
        pending.remove(id);
        takeSamples(d); // the paused time is not judged
        yield save(d.with(DeploymentState.PROGRESSING, d.step(), d.weights(), clock.millis() + d.spec().intervalMillis(),
            entry(d, d.step(), "resumed by operator", null)));
      }
    };
  }

  /**
   * Judges every progressing deployment whose interval has ended and that this instance judges. A
   * deployment this instance has just begun to judge (its lease came from an instance that stopped)
   * continues from its stored record, on samples from now: what this instance recorded before is not
   * of the interval being judged.
   */
  public synchronized void tick() {
    long now = clock.millis();
    List<Deployment> all = store.all();
    watch(all);
    Set<String> held = new HashSet<>();
    for (Deployment d : all) {
      if (!d.state().running() || !judges.judges(d.id())) {
        continue;
      }
      held.add(d.id());
      if (!judging.contains(d.id())) {
        takeSamples(d);
      }
    }
    judging.retainAll(held);
    judging.addAll(held);
    for (Deployment d : all) {
      if (d.state() != DeploymentState.PROGRESSING || now < d.nextJudgeAt() || !held.contains(d.id())) {
        continue;
      }
      try {
        judge(d, now);
      } catch (RuntimeException e) {
        log.warn("deployment {} failed: {}", d.id(), e.getMessage());
        save(d.with(DeploymentState.FAILED, d.step(), d.weights(), d.nextJudgeAt(),
            entry(d, d.step(), "failed: " + e.getMessage(), null)));
      }
    }
  }

  private void judge(Deployment d, long now) {
    Sample[] samples = takeSamples(d);
    Sample[] carried = pending.remove(d.id());
    if (carried != null) {
      samples = new Sample[] {carried[0].plus(samples[0]), carried[1].plus(samples[1])};
    }
    Verdict v = Judge.judge(samples[0], samples[1], d.spec().slo());
    log.info("deployment {} step {} ({}% to {}): {} - {} ({} requests, {} errors, p99 {}ms; baseline {} requests)",
        d.id(), d.step() + 1, d.percent(), d.to(), v.outcome(), v.reason(), v.requests(), v.errors(),
        String.format("%.1f", v.p99Millis()), v.baselineRequests());
    switch (v.outcome()) {
      case WAIT -> {
        pending.put(d.id(), samples);
        save(d.with(d.state(), d.step(), d.weights(), now + d.spec().intervalMillis(), null));
      }
      case PASS -> {
        if (d.step() == d.spec().walk().size() - 1) {
          promote(d, "passed: " + v.reason(), v);
        } else {
          moveTo(d, d.step() + 1, DeploymentState.PROGRESSING, "passed: " + v.reason(), v);
        }
      }
      case FAIL -> {
        switch (d.spec().onFailure()) {
          case ROLLBACK -> rollback(d, "failed: " + v.reason(), v);
          case STEPBACK -> moveTo(d, Math.max(0, d.step() - 1), DeploymentState.PAUSED, "failed, stepped back: "
              + v.reason(), v);
          case PAUSE -> save(d.with(DeploymentState.PAUSED, d.step(), d.weights(), d.nextJudgeAt(),
              entry(d, d.step(), "failed, paused: " + v.reason(), v)));
        }
      }
    }
  }

  private Deployment moveTo(Deployment d, int step, DeploymentState state, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = weightsAt(d.from(), d.to(), d.spec().walk().get(step));
    routes.apply(d.route(), weights, false,
        d.spec().sticky() == null ? null : new Split(d.id(), d.to(), d.spec().sticky()));
    Deployment next = d.with(state, step, weights, clock.millis() + d.spec().intervalMillis(), entry(d, d.step(), event, v));
    log.info("deployment {}: {}; now {}% to {} ({})", d.id(), event, d.spec().walk().get(step), d.to(), weights);
    save(next);
    takeSamples(next); // the new step is judged on its own traffic
    return next;
  }

  private Deployment promote(Deployment d, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = List.of(new Backend(d.to(), 100));
    String note = routes.apply(d.route(), weights, true, null);
    log.info("deployment {} promoted: route {} sends everything to {} ({})", d.id(), d.route(), d.to(), event);
    return save(d.with(DeploymentState.PROMOTED, d.step(), weights, d.nextJudgeAt(),
        entry(d, d.step(), note == null ? event : event + "; " + note, v)));
  }

  private Deployment rollback(Deployment d, String event, Verdict v) {
    if (!d.weights().equals(routes.backends(d.route()))) {
      // Someone else set the weights since (an operator, or a reload that changed the route): theirs stay.
      log.warn("deployment {} rolled back without touching route {}: its weights changed outside the deployment",
          d.id(), d.route());
      return save(d.with(DeploymentState.ROLLED_BACK, d.step(), d.weights(), d.nextJudgeAt(),
          entry(d, d.step(), event + " (weights changed outside the deployment: left as they are)", v)));
    }
    String note = routes.apply(d.route(), d.from(), true, null);
    log.warn("deployment {} rolled back: route {} back to {} ({})", d.id(), d.route(), d.from(), event);
    return save(d.with(DeploymentState.ROLLED_BACK, d.step(), d.from(), d.nextJudgeAt(),
        entry(d, d.step(), note == null ? event : event + "; " + note, v)));
  }

  /**
   * A step applies only over the weights the deployment itself set: an operator's {@code PUT} or a
   * reload that changed the route's backends meanwhile wins, and the deployment fails (from
   * {@link #tick}) or the action is refused (409).
   */
  private void checkUntouched(Deployment d) {
    List<Backend> now = routes.backends(d.route());
    if (now == null) {
      throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + d.route()
          + "' is no longer in the config");
    }
    if (!now.equals(d.weights())) {
      throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + d.route()
          + "' weights changed outside the deployment: " + now + " (expected: " + d.weights() + ")");
    }
  }

  private Deployment.HistoryEntry entry(Deployment d, int step, String event, Verdict v) {
    return new Deployment.HistoryEntry(clock.millis(), step, step < 0 ? 0 : d.spec().walk().get(step), event, v);
  }

  private Deployment save(Deployment d) {
    store.put(d);
    if (!d.state().running()) {
      pending.remove(d.id());
    }
    watch();
    return d;
  }

  private void watch() {
    watch(store.all());
  }

  private void watch(List<Deployment> all) {
    Set<String> running = new HashSet<>();
    all.stream().filter(d -> d.state().running()).forEach(d -> running.add(d.route()));
    observer.watch(running);
  }

  /** The target's and the baseline's (every other backend of the route) samples since the last take. */
  private Sample[] takeSamples(Deployment d) {
    Sample target = observer.take(d.route(), d.to());
    Sample baseline = Sample.EMPTY;
    for (Backend b : d.from()) {
      if (!b.cluster().equals(d.to())) {
        baseline = baseline.plus(observer.take(d.route(), b.cluster()));
      }
    }
    return new Sample[] {target, baseline};
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
