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

    /**
     * The note {@link #apply} would give for the last weights {@code weights} of {@code route}, without
     * applying anything: an ending record carries it from its first write.
     */
    default String endNote(String route, List<Backend> weights) {
      return null;
    }
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

  /** While a deployment waits for its store, a verdict is retried this often (not at every tick). */
  static final long RETRY_MILLIS = 1000;

  private final DeploymentStore store;
  private final Routes routes;
  private final CohortObserver observer;
  private final Clock clock;
  private final Judges judges;
  private final Steps steps;
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
  private final Map<String, Steps.Plan> owed = new HashMap<>();
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
    this.steps = new Steps(routes, clock, this::takeSamples);
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
      Steps.Plan first;
      synchronized (this) {
        judging.add(d.id());
        watch(store.all());
        first = steps.moveTo(d, 0, DeploymentState.PROGRESSING, "started", null);
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
    Steps.Plan plan;
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
        case PROMOTE -> steps.promote(d, "promoted by operator", null);
        case ROLLBACK -> steps.rollback(d, "rolled back by operator", null);
        case PAUSE -> steps.pause(d);
        case RESUME -> {
          pending.remove(id);
          takeSamples(d); // the paused time is not judged
          yield steps.resume(d);
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
    List<Steps.Plan> plans = new ArrayList<>();
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
        Steps.Plan o = owed.get(d.id());
        if (o != null && !writing.contains(d.id()) && now >= retryAt.getOrDefault(d.id(), 0L)) {
          if (!o.after().equals(d)) {
            owed.remove(d.id()); // the record moved on meanwhile: its writer applies its weights
          } else {
            plans.add(new Steps.Plan(d, d, o.weights(), o.last(), o.split(), null, null, "weights of " + o.event()));
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
          plans.add(steps.failed(d, e.getMessage()));
        }
        writing.add(d.id());
      }
    }
    for (Steps.Plan p : plans) {
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
   * outcome under the lock. An ending plan (promote, rollback) applies its weights before the
   * record, so a record that says it ended always has the traffic where it says. {@code operator}: the caller is an API call, which hears a refusal.
   */
  private Deployment run(Steps.Plan p, boolean operator) {
    String id = p.before().id();
    Deployment written = null;
    try {
      if (p.last() && p.weights() != null) {
        // An ending plan moves the traffic first: once the record says rolled back (or promoted),
        // the route serves that. Nothing is written if the weights cannot apply.
        routes.apply(p.before().route(), p.weights(), true, p.split());
        if (!store.replace(p.before(), p.after())) {
          log.warn("deployment {}: {} applied its weights, but the record changed meanwhile (an operator on another"
              + " instance); the later write of weights wins", id, p.event());
          done(p, false, null, operator);
          throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id
              + " changed meanwhile (by its judge or an operator on another instance): retry");
        }
        done(p, true, null, operator);
        logApplied(p);
        return p.after();
      }
      if (!p.after().equals(p.before()) && !store.replace(p.before(), p.after())) {
        done(p, false, null, operator);
        throw new DeploymentException(DeploymentException.Kind.CONFLICT, "id", "deployment " + id
            + " changed meanwhile (by its judge or an operator on another instance): retry");
      }
      written = p.after();
      if (p.weights() != null) {
        try {
          routes.apply(p.before().route(), p.weights(), p.last(), p.split());
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
              p.after().nextJudgeAt(), steps.entry(p.after(), p.after().step(), "failed: " + e.getMessage(), null));
          log.warn("deployment {} failed: {}", id, e.getMessage());
          store.replace(p.after(), f);
          written = f;
          throw e;
        }
        synchronized (this) {
          owed.remove(id);
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
  private synchronized void done(Steps.Plan p, boolean written, StoreDownException down, boolean operator) {
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

  private void logApplied(Steps.Plan p) {
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
  private Steps.Plan judge(Deployment d, long now) {
    Sample[] samples = takeSamples(d);
    Sample[] carried = pending.remove(d.id());
    if (carried != null) {
      samples = new Sample[] {carried[0].plus(samples[0]), carried[1].plus(samples[1])};
    }
    Verdict v = Judge.judge(samples[0], samples[1], d.spec().slo());
    if (v.outcome() == Verdict.Outcome.WAIT) {
      pending.put(d.id(), samples); // carried in memory, not in the plan: a WAIT consumes nothing
      return steps.waitMore(d, now, v);
    }
    return steps.verdict(d, v, samples);
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
}
