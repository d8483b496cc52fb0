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
 * the rest. Not on the data path: its state is guarded by its lock, but no store or route write
 * (which may wait on Redis) happens while the lock is held, so a slow store never stalls a reader.
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

  /** A deployment waiting for its store: the step it holds and since when (epoch millis). */
  public record Waiting(long since, String reason) {}

  /**
   * One change to one deployment, computed under the lock and written outside it: the record
   * {@code before} becomes {@code after} (compare-and-set), then the route gets {@code weights}
   * (null: the weights stay). {@code samples} go back to the carry when it could not be written.
   */
  private record Plan(Deployment before, Deployment after, List<Backend> weights, boolean last, Split split,
      Sample[] samples, Verdict verdict, String event) {}

  /** While a deployment waits for its store, a verdict is retried this often (not at every tick). */
  static final long RETRY_MILLIS = 1000;

  private final DeploymentStore store;
  private final Routes routes;
  private final CohortObserver observer;
  private final Clock clock;
  private final Judges judges;
  // Every field below is guarded by this controller's lock, which is never held across a store or
  // route write (those may wait on Redis): plans are computed under it, written outside it, and their
  // outcome recorded under it again.
  /** The running deployments this instance judged at the last tick: a new one starts on fresh samples. */
  private final Set<String> judging = new HashSet<>();
  /** Samples of a step that waits for more requests (or for its store), carried into the next verdict. */
  private final Map<String, Sample[]> pending = new HashMap<>();
  /** Deployments with a plan being written now: nothing else is planned for them meanwhile. */
  private final Set<String> writing = new HashSet<>();
  /** Routes with a deployment being started now (its record is not in the store yet). */
  private final Set<String> starting = new HashSet<>();
  /** Deployments whose last verdict could not be written, and when it is retried. */
  private final Map<String, Waiting> waiting = new HashMap<>();
  private final Map<String, Long> retryAt = new HashMap<>();
  /** Records written whose weights could not be applied yet (their store went down in between). */
  private final Map<String, Plan> owed = new HashMap<>();
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
    watch(store.all());
  }

  /** Every deployment as the store last read them (never a round trip: see {@link #readAt}). */
  public List<Deployment> all() {
    return store.all();
  }

  /** As {@link #all}: for a metrics scrape. */
  public List<Deployment> lastKnown() {
    return store.lastKnown();
  }

  /** When the list was last read from a shared store (epoch millis); 0 when the store is local. */
  public long readAt() {
    return store.readAt();
  }

  /** Whether (and since when) a deployment's due step waits for its store; null when it does not. */
  public synchronized Waiting waiting(String id) {
    return waiting.get(id);
  }

  public Deployment get(String id) {
    return store.all().stream().filter(d -> d.id().equals(id)).findFirst()
        .orElseThrow(() -> new DeploymentException(DeploymentException.Kind.NOT_FOUND, "id", "no deployment '" + id + "'"));
  }

  /** Starts a deployment: the first step's weights apply now. */
  public Deployment start(DeploymentSpec spec) {
    Deployment d;
    synchronized (this) {
      List<Backend> from = routes.backends(spec.route());
      if (from == null) {
        throw new DeploymentException(DeploymentException.Kind.NOT_FOUND, "route", "no route '" + spec.route() + "'");
      }
      if (!routes.hasCluster(spec.to())) {
        throw new DeploymentException(DeploymentException.Kind.NOT_FOUND, "to", "no cluster '" + spec.to() + "'");
      }
      for (Deployment r : store.all()) {
        if (r.route().equals(spec.route()) && r.state().running()) {
          throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + spec.route()
              + "' already has deployment " + r.id() + " " + r.state().label() + " (expected: promote or roll it back first)");
        }
      }
      if (starting.contains(spec.route())) {
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "route", "route '" + spec.route()
            + "' has a deployment being started (expected: promote or roll it back first)");
      }
      if (from.stream().noneMatch(b -> !b.cluster().equals(spec.to()) && b.weight() > 0)) {
        throw new DeploymentException(DeploymentException.Kind.BAD_REQUEST, "to", "route '" + spec.route()
            + "' sends nothing to a cluster other than '" + spec.to() + "' (expected: a target that is not what runs now)");
      }
      long now = clock.millis();
      String id = spec.route() + "-" + Long.toString(now, 36) + "-" + (++sequence);
      d = new Deployment(id, DeploymentState.PENDING, spec.route(), spec.to(), spec, -1, from, from, List.of(), now, now);
      starting.add(spec.route());
    }
    try {
      judges.claim(d.id());
      if (!store.replace(null, d)) {
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + d.id() + " exists already");
      }
      log.info("deployment {} of route {} to {}: {} steps {} every {}ms, onFailure {}, sticky {}", d.id(), spec.route(),
          spec.to(), spec.strategy().label(), spec.walk(), spec.intervalMillis(), spec.onFailure().label(),
          spec.sticky() == null ? "none" : spec.sticky());
      Plan first;
      synchronized (this) {
        judging.add(d.id());
        watch(store.all());
        first = moveTo(d, 0, DeploymentState.PROGRESSING, "started", null);
        writing.add(d.id());
      }
      return run(first, true);
    } finally {
      synchronized (this) {
        starting.remove(spec.route());
      }
    }
  }

  public Deployment act(String id, Action action) {
    Plan plan;
    synchronized (this) {
      Deployment d = get(id);
      if (!d.state().running()) {
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id + " is "
            + d.state().label() + " (expected: pending, progressing or paused)");
      }
      if (writing.contains(id)) {
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id
            + " has a step being written now (expected: retry in a moment)");
      }
      plan = switch (action) {
        case PROMOTE -> promote(d, "promoted by operator", null);
        case ROLLBACK -> rollback(d, "rolled back by operator", null);
        case PAUSE -> new Plan(d, d.with(DeploymentState.PAUSED, d.step(), d.weights(), d.nextJudgeAt(),
            entry(d, d.step(), "paused by operator", null)), null, false, null, null, null, "paused by operator");
        case RESUME -> {
          pending.remove(id);
          takeSamples(d); // the paused time is not judged
          yield new Plan(d, d.with(DeploymentState.PROGRESSING, d.step(), d.weights(),
              clock.millis() + d.spec().intervalMillis(), entry(d, d.step(), "resumed by operator", null)), null, false,
              null, null, null, "resumed by operator");
        }
      };
      writing.add(id);
    }
    return run(plan, true);
  }

  /**
   * Judges every progressing deployment whose interval has ended and that this instance judges. A
   * deployment this instance has just begun to judge (its lease came from an instance that stopped)
   * continues from its stored record, on samples from now: what this instance recorded before is not
   * of the interval being judged. A verdict that cannot be written (the store is down) changes
   * nothing: the routes keep the last applied step, the samples are kept, and it is judged again
   * (every {@link #RETRY_MILLIS}) until it can be written.
   */
  public void tick() {
    List<Plan> plans = new ArrayList<>();
    synchronized (this) {
      long now = clock.millis();
      List<Deployment> all = store.all();
      watch(all);
      Set<String> held = new HashSet<>();
      for (Deployment d : all) {
        if (d.state().running() && judges.judges(d.id())) {
          held.add(d.id());
          if (!judging.contains(d.id())) {
            takeSamples(d);
          }
        }
      }
      judging.retainAll(held);
      judging.addAll(held);
      waiting.keySet().retainAll(held);
      retryAt.keySet().retainAll(held);
      for (Deployment d : all) {
        Plan o = owed.get(d.id());
        if (o != null && !writing.contains(d.id()) && now >= retryAt.getOrDefault(d.id(), 0L)) {
          if (!o.after().equals(d)) {
            owed.remove(d.id()); // the record moved on meanwhile: its writer applies its weights
          } else {
            plans.add(new Plan(d, d, o.weights(), o.last(), o.split(), null, null, "weights of " + o.event()));
            writing.add(d.id());
          }
        }
      }
      for (Deployment d : all) {
        if (d.state() != DeploymentState.PROGRESSING || now < d.nextJudgeAt() || !held.contains(d.id())
            || writing.contains(d.id()) || now < retryAt.getOrDefault(d.id(), 0L)) {
          continue;
        }
        try {
          plans.add(judge(d, now));
        } catch (DeploymentException e) { // the route or its weights changed under the deployment
          plans.add(failed(d, e.getMessage()));
        }
        writing.add(d.id());
      }
    }
    for (Plan p : plans) {
      try {
        run(p, false);
      } catch (RuntimeException e) {
        log.debug("deployment {}: {}", p.before().id(), e.toString()); // run() logged and recorded it
      }
    }
  }

  /**
   * Writes a plan outside the lock: the record first (compare-and-set: a verdict and an operator's
   * action on another instance cannot both apply), then the route's weights, then records the
   * outcome under the lock. {@code operator}: the caller is an API call, which hears a refusal.
   */
  private Deployment run(Plan p, boolean operator) {
    String id = p.before().id();
    Deployment written = null;
    try {
      if (!p.after().equals(p.before()) && !store.replace(p.before(), p.after())) {
        done(p, false, null, operator);
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id
            + " changed meanwhile (by its judge or an operator on another instance): retry");
      }
      written = p.after();
      if (p.weights() != null) {
        String note;
        try {
          note = routes.apply(p.before().route(), p.weights(), p.last(), p.split());
        } catch (StoreDownException e) {
          synchronized (this) {
            owed.put(id, p); // the record is ahead of the routes: its weights are applied when the store is back
          }
          throw e;
        } catch (RuntimeException e) {
          if (!p.after().state().running()) {
            throw e; // an ending plan keeps its outcome; the weights stay as they are
          }
          Deployment f = p.after().with(DeploymentState.FAILED, p.after().step(), p.after().weights(),
              p.after().nextJudgeAt(), entry(p.after(), p.after().step(), "failed: " + e.getMessage(), null));
          log.warn("deployment {} failed: {}", id, e.getMessage());
          store.replace(p.after(), f);
          written = f;
          throw e;
        }
        synchronized (this) {
          owed.remove(id);
        }
        if (note != null) { // a note about what the route serves now, for the history
          Deployment.HistoryEntry last = written.history().get(written.history().size() - 1);
          List<Deployment.HistoryEntry> h = new ArrayList<>(written.history());
          h.set(h.size() - 1, new Deployment.HistoryEntry(last.at(), last.step(), last.percent(),
              last.event() + "; " + note, last.verdict()));
          Deployment noted = new Deployment(written.id(), written.state(), written.route(), written.to(), written.spec(),
              written.step(), written.weights(), written.from(), h, written.createdAt(), written.nextJudgeAt());
          if (store.replace(written, noted)) {
            written = noted;
          }
        }
      }
      done(p, true, null, operator);
      logApplied(p);
      return written;
    } catch (StoreDownException e) {
      done(p, written != null, e, operator);
      if (operator && written == null) {
        throw e;
      }
      return written;
    } catch (RuntimeException e) {
      done(p, written != null, null, operator);
      throw e;
    }
  }

  /**
   * Records a plan's outcome: applied (or written), or to be retried when the store is back. An
   * operator's call that could not be written is answered 503 and is not retried.
   */
  private synchronized void done(Plan p, boolean written, StoreDownException down, boolean operator) {
    String id = p.before().id();
    writing.remove(id);
    if (down != null && operator && !written) {
      return;
    }
    if (down != null) {
      if (!written && p.samples() != null) { // judged again, on these and what comes next
        Sample[] carried = pending.remove(id);
        pending.put(id, carried == null ? p.samples()
            : new Sample[] {carried[0].plus(p.samples()[0]), carried[1].plus(p.samples()[1])});
      }
      retryAt.put(id, clock.millis() + RETRY_MILLIS);
      if (!waiting.containsKey(id)) {
        waiting.put(id, new Waiting(clock.millis(), down.getMessage()));
        log.warn("deployment {}: {} waits for the store ({}): the routes keep step {} ({}% to {}); retried until it can"
            + " be written", id, p.event(), down.getMessage(), p.before().step() + 1, p.before().percent(), p.before().to());
      }
      return;
    }
    retryAt.remove(id);
    if (waiting.remove(id) != null) {
      log.info("deployment {}: the store is back; {}", id, p.event());
    }
    if (written && !p.after().state().running()) {
      pending.remove(id);
    }
    watch(store.all());
  }

  private void logApplied(Plan p) {
    Deployment d = p.after();
    Verdict v = p.verdict();
    if (v != null) {
      log.info("deployment {} step {} ({}% to {}): {} - {} ({} requests, {} errors, p99 {}ms; baseline {} requests)",
          d.id(), p.before().step() + 1, p.before().percent(), d.to(), v.outcome(), v.reason(), v.requests(), v.errors(),
          String.format("%.1f", v.p99Millis()), v.baselineRequests());
    }
    if (p.weights() != null) {
      log.info("deployment {}: {}; {} {}% to {} ({})", d.id(), p.event(), d.state().label(), d.percent(), d.to(),
          p.weights());
    }
  }

  /** The plan for a due verdict; runs under the lock. */
  private Plan judge(Deployment d, long now) {
    Sample[] samples = takeSamples(d);
    Sample[] carried = pending.remove(d.id());
    if (carried != null) {
      samples = new Sample[] {carried[0].plus(samples[0]), carried[1].plus(samples[1])};
    }
    Verdict v = Judge.judge(samples[0], samples[1], d.spec().slo());
    Plan p = switch (v.outcome()) {
      case WAIT -> {
        pending.put(d.id(), samples); // carried in memory, not in the plan: a WAIT consumes nothing
        yield new Plan(d, d.with(d.state(), d.step(), d.weights(), now + d.spec().intervalMillis(), null), null, false,
            null, null, v, "waits for more requests");
      }
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
    return v.outcome() == Verdict.Outcome.WAIT ? p
        : new Plan(p.before(), p.after(), p.weights(), p.last(), p.split(), samples, v, p.event());
  }

  private Plan failed(Deployment d, String why) {
    log.warn("deployment {} failed: {}", d.id(), why);
    return new Plan(d, d.with(DeploymentState.FAILED, d.step(), d.weights(), d.nextJudgeAt(),
        entry(d, d.step(), "failed: " + why, null)), null, false, null, null, null, "failed");
  }

  private Plan moveTo(Deployment d, int step, DeploymentState state, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = weightsAt(d.from(), d.to(), d.spec().walk().get(step));
    Deployment next = d.with(state, step, weights, clock.millis() + d.spec().intervalMillis(), entry(d, d.step(), event, v));
    takeSamples(next); // the new step is judged on its own traffic
    return new Plan(d, next, weights, false,
        d.spec().sticky() == null ? null : new Split(d.id(), d.to(), d.spec().sticky()), null, v, event);
  }

  private Plan promote(Deployment d, String event, Verdict v) {
    checkUntouched(d);
    List<Backend> weights = List.of(new Backend(d.to(), 100));
    return new Plan(d, d.with(DeploymentState.PROMOTED, d.step(), weights, d.nextJudgeAt(),
        entry(d, d.step(), event, v)), weights, true, null, null, v, event + "; promoted");
  }

  private Plan rollback(Deployment d, String event, Verdict v) {
    if (touchedOutside(d)) {
      // Someone else set the weights since (an operator, or a reload that changed the route): theirs stay.
      log.warn("deployment {} rolled back without touching route {}: its weights changed outside the deployment",
          d.id(), d.route());
      return new Plan(d, d.with(DeploymentState.ROLLED_BACK, d.step(), d.weights(), d.nextJudgeAt(),
          entry(d, d.step(), event + " (weights changed outside the deployment: left as they are)", v)), null, true,
          null, null, v, event);
    }
    return new Plan(d, d.with(DeploymentState.ROLLED_BACK, d.step(), d.from(), d.nextJudgeAt(),
        entry(d, d.step(), event, v)), d.from(), true, null, null, v, event + "; rolled back");
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

  private Deployment.HistoryEntry entry(Deployment d, int step, String event, Verdict v) {
    return new Deployment.HistoryEntry(clock.millis(), step, step < 0 ? 0 : d.spec().walk().get(step), event, v);
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
