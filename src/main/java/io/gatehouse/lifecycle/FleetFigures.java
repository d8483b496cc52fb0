package io.gatehouse.lifecycle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.deploy.CohortObserver;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentStore;
import io.gatehouse.fleet.FleetClient;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The fleet's summed figures for the deployment judges. Every instance counts the exchanges of
 * routes with a running deployment, per (route, cluster): requests, failures and a bounded uniform
 * latency sample, and every heartbeat pushes those of the deployments it does not judge to
 * {@code gatehouse:{fleet}:figures:ROUTE} and starts afresh. Each deployment's judge (the holder of
 * its {@code JudgeLeases} lease) takes its route's list every heartbeat and replays it into its own
 * {@link CohortObserver}, so its verdicts are on the fleet's traffic. A list nobody takes (its judge
 * stopped) expires after {@link #STALE_MILLIS}.
 *
 * <p>{@link #record} is on the data path: a volatile read, and for a watched route one map lookup,
 * two adders and one reservoir slot; no lock. Figures older than {@link #STALE_MILLIS} (a judge
 * change, an outage) are dropped rather than judged late.
 */
final class FleetFigures {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_LATENCIES = 512;
  static final long STALE_MILLIS = 10_000;
  /** Takes the whole list atomically: no push is lost between the read and the delete. */
  private static final String TAKE = """
      local items = redis.call('LRANGE', KEYS[1], 0, -1)
      redis.call('DEL', KEYS[1])
      return items
      """;

  /** One push: a (route, cluster) cohort's figures since the previous push. Public for Jackson. */
  public record Figures(String route, String cluster, long requests, long errors, long[] latencies, long at) {}

  private static final class Cohort {
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final AtomicLongArray slots = new AtomicLongArray(MAX_LATENCIES);
    final AtomicLong seen = new AtomicLong();

    /** Vitter's algorithm R, one atomic increment per writer (as deploy.Reservoir). */
    void add(boolean failed, long nanos) {
      requests.increment();
      if (failed) {
        errors.increment();
      }
      long n = seen.getAndIncrement();
      long j = n < MAX_LATENCIES ? n : ThreadLocalRandom.current().nextLong(n + 1);
      if (j < MAX_LATENCIES) {
        slots.set((int) j, nanos);
      }
    }

    long[] latencies() {
      int n = (int) Math.min(seen.get(), MAX_LATENCIES);
      long[] out = new long[n];
      for (int i = 0; i < n; i++) {
        out[i] = slots.get(i);
      }
      return out;
    }
  }

  private final FleetClient fleet;
  private final String key;
  private final DeploymentStore store;
  /** Whether this instance judges a deployment (by id). */
  private final Predicate<String> judges;
  private final CohortObserver cohorts;
  /** Routes with a running deployment, refreshed every heartbeat. */
  private volatile Set<String> watched = Set.of();
  private volatile Map<String, Cohort> counting = new ConcurrentHashMap<>();

  FleetFigures(FleetClient fleet, DeploymentStore store, Predicate<String> judges, CohortObserver cohorts) {
    this.fleet = fleet;
    this.key = fleet.key("figures");
    this.store = store;
    this.judges = judges;
    this.cohorts = cohorts;
  }

  void start() {
    fleet.every(fleet.config().heartbeat(), this::heartbeat);
  }

  /** Counts one finished exchange of a watched route (every instance but the judge pushes them). */
  void record(String route, String cluster, boolean failed, long upstreamNanos) {
    if (!watched.contains(route)) {
      return;
    }
    counting.computeIfAbsent(route + '\n' + cluster, k -> new Cohort()).add(failed, upstreamNanos);
  }

  /** Never waits: the store's last known list, and Redis commands whose replies nobody awaits here. */
  private void heartbeat() {
    if (!fleet.status().isUp()) {
      return;
    }
    Map<String, String> running = new java.util.HashMap<>();
    for (Deployment d : store.lastKnown()) {
      if (d.state().running()) {
        running.put(d.route(), d.id());
      }
    }
    watched = Set.copyOf(running.keySet());
    Map<String, Cohort> done = counting;
    counting = new ConcurrentHashMap<>();
    Map<String, List<String>> pushes = new java.util.HashMap<>();
    long now = System.currentTimeMillis();
    done.forEach((k, c) -> {
      String route = k.substring(0, k.indexOf('\n'));
      String id = running.get(route);
      if (id != null && !judges.test(id)) { // the judge's own exchanges are in its CohortObserver already
        pushes.computeIfAbsent(route, r -> new ArrayList<>()).add(json(k, c, now));
      }
    });
    pushes.forEach(this::push);
    running.forEach((route, id) -> {
      if (judges.test(id)) {
        take(route);
      }
    });
  }

  private String key(String route) {
    return key + ":" + route;
  }

  private static String json(String k, Cohort c, long now) {
    int nl = k.indexOf('\n');
    try {
      return JSON.writeValueAsString(new Figures(k.substring(0, nl), k.substring(nl + 1), c.requests.sum(),
          c.errors.sum(), c.latencies(), now));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write figures as JSON", e); // strings and numbers: a bug
    }
  }

  private void push(String route, List<String> items) {
    String k = key(route);
    fleet.call(r -> r.rpush(k, items.toArray(String[]::new)))
        .thenCompose(n -> fleet.call(r -> r.pexpire(k, STALE_MILLIS)));
  }

  private void take(String route) {
    fleet.<List<String>>call(r -> r.eval(TAKE, ScriptOutputType.MULTI, key(route))).thenAccept(items -> {
      long now = System.currentTimeMillis();
      for (Object item : items) {
        try {
          Figures f = JSON.readValue(String.valueOf(item), Figures.class);
          if (now - f.at() <= STALE_MILLIS && route.equals(f.route())) {
            replay(f);
          }
        } catch (JsonProcessingException e) {
          // not ours: skipped
        }
      }
    });
  }

  /** Into the judge's observer as if the requests had crossed this instance; latencies re-used in turn. */
  private void replay(Figures f) {
    long[] latencies = f.latencies() == null ? new long[0] : f.latencies();
    for (long i = 0; i < f.requests(); i++) {
      long nanos = latencies.length == 0 ? 0 : latencies[(int) (i % latencies.length)];
      cohorts.record(f.route(), f.cluster(), i < f.errors(), nanos);
    }
  }
}
