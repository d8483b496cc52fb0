package io.gatehouse.lifecycle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.admin.AdminException;
import io.gatehouse.config.BackendRef;
import io.gatehouse.config.HostPort;
import io.gatehouse.fleet.FleetClient;
import io.gatehouse.fleet.SharedHash;
import io.gatehouse.upstream.AdminState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * With {@code fleet}, the overrides (drain, enable/disable, weights) live in one Redis hash the
 * whole fleet shares ({@code gatehouse:{fleet}:overrides}, one field per override): a change made
 * on any instance is written there first, then applied locally; every other instance hears the
 * notice (pub/sub), re-reads the hash and applies it as a new generation of its own, within one
 * second. Each instance also re-reads when Redis comes back (catch-up after an outage) and checks
 * the version every {@code fleet.heartbeat} (the safety net for a lost notice).
 *
 * <p>The state file stays as this instance's copy of the last fleet state it applied: a restart
 * during a Redis outage starts from it, and when Redis has no hash (restarted empty, or a new
 * fleet) the first instance to see that seeds it from its own state.
 *
 * <p>All Redis reads, applies and writes run on one {@code gatehouse-fleet} thread, so a re-read
 * never lands between a write and its install; a change made here waits for its write on the
 * caller's (admin or deploy) thread.
 */
final class FleetOverrides implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FleetOverrides.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WEIGHTS = "weights:";
  private static final String ENDPOINT = "endpoint:";

  /** Applies the fleet's overrides (as read) as a new generation, unless they are what runs. */
  interface Apply {
    void apply(Overrides fleetOverrides, long version);
  }

  private final FleetClient fleet;
  private final SharedHash hash;
  private final Supplier<Snapshot> current;
  private final Apply apply;
  private final Duration timeout;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "gatehouse-fleet");
    t.setDaemon(true);
    return t;
  });
  /** The fleet version this instance's overrides come from; 0 before the first read. */
  private volatile long version;

  FleetOverrides(FleetClient fleet, Supplier<Snapshot> current, Apply apply) {
    this.fleet = fleet;
    this.hash = new SharedHash(fleet, "overrides");
    this.current = current;
    this.apply = apply;
    this.timeout = fleet.config().timeout();
  }

  /** Starts listening: notices, Redis coming back, the periodic version check. */
  void start() {
    hash.onChange(v -> syncLater());
    fleet.status().addListener(up -> {
      if (up) {
        syncLater();
      }
    });
    fleet.every(fleet.config().heartbeat(), () -> {
      if (fleet.status().isUp()) {
        hash.version().thenAccept(v -> {
          if (v != version) {
            syncLater();
          }
        });
      }
    });
  }

  long version() {
    return version;
  }

  /** Reads and applies now, on the caller's thread (the start: begin with the fleet's state). */
  void syncNow() {
    try {
      thread.submit(this::sync).get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.warn("fleet: overrides not read at start ({}); starting on the local state file", e.toString());
    }
  }

  private void syncLater() {
    if (!thread.isShutdown()) {
      thread.execute(this::sync);
    }
  }

  private void sync() {
    if (!fleet.status().isUp()) {
      return;
    }
    try {
      SharedHash.Contents contents = hash.read().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!contents.exists()) {
        Overrides mine = current.get().overrides();
        long seeded = hash.seed(fields(mine), version + 1).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (seeded > 0) {
          version = seeded;
          log.info("fleet: no overrides in Redis; seeded them from this instance's state (version {})", seeded);
        }
        return; // otherwise another instance seeded first: its notice brings the state
      }
      apply.apply(parse(contents.fields()), contents.version());
      version = contents.version();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // Redis went away mid-read: the status says so, and its return brings a re-read.
      log.debug("fleet: overrides re-read failed: {}", e.toString());
    }
  }

  /**
   * Writes an operator's change to the fleet (only what differs from {@code before}); returns the
   * new version. Refuses with 503 while Redis is down: a drain on one instance of a fleet is not a
   * drain, so the operator hears that it did not apply rather than believing it did.
   */
  long write(Overrides before, Overrides after) {
    // On the fleet thread, after any re-read already under way: a read of the version before this
    // write must not be applied after this write's own change is installed (it would put the older
    // weights back until the next notice; found when a deployment started right after a rollback
    // read the rolled-back canary step as the route's weights).
    java.util.concurrent.Future<Long> written = thread.submit(() -> writeNow(before, after));
    try {
      return written.get(timeout.toMillis() * 3, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new AdminException(503, "fleet", "the fleet's Redis write failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException(503, "fleet", "interrupted while writing to the fleet's Redis");
    } catch (java.util.concurrent.TimeoutException e) {
      written.cancel(true);
      throw new AdminException(503, "fleet", "the fleet's Redis " + fleet.config().redis()
          + " did not answer in time: the change was not applied on this instance (retry)");
    }
  }

  private long writeNow(Overrides before, Overrides after) {
    Map<String, String> was = fields(before);
    Map<String, String> now = fields(after);
    Map<String, String> put = new LinkedHashMap<>();
    now.forEach((k, v) -> {
      if (!Objects.equals(was.get(k), v)) {
        put.put(k, v);
      }
    });
    Set<String> remove = new HashSet<>(was.keySet());
    remove.removeAll(now.keySet());
    try {
      long v = hash.write(put, remove).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (v < 0) { // Redis lost the hash: write the whole state, this change included
        v = hash.seed(now, version + 1).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (v < 0) {
          throw new AdminException(503, "fleet", "the fleet's overrides changed meanwhile; retry");
        }
      }
      version = v;
      return v;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminException(503, "fleet", "interrupted while writing to the fleet's Redis");
    } catch (AdminException e) {
      throw e;
    } catch (Exception e) {
      throw new AdminException(503, "fleet", "the fleet's Redis " + fleet.config().redis()
          + " is unreachable: the change was not applied on any instance (retry when it is back)");
    }
  }

  /** One field per override: {@code weights:ROUTE} and {@code endpoint:CLUSTER/HOST:PORT}, values in JSON. */
  static Map<String, String> fields(Overrides overrides) {
    Map<String, String> fields = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Overrides.Weights> e : overrides.weights().entrySet()) {
        fields.put(WEIGHTS + e.getKey(), JSON.writeValueAsString(new StateFile.RouteWeights(
            backends(e.getValue().backends()), backends(e.getValue().fileBackends()), e.getValue().split())));
      }
      for (Map.Entry<Overrides.EndpointKey, AdminState> e : overrides.endpoints().entrySet()) {
        fields.put(ENDPOINT + e.getKey(), JSON.writeValueAsString(new StateFile.EndpointEntry(e.getKey().cluster(),
            e.getKey().address().toString(), e.getValue().name().toLowerCase(Locale.ROOT))));
      }
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write overrides as JSON", e); // records of strings and ints: a bug
    }
    return fields;
  }

  /** The overrides in {@code fields}; a field that does not parse is skipped and logged. */
  static Overrides parse(Map<String, String> fields) {
    Map<String, Overrides.Weights> weights = new LinkedHashMap<>();
    Map<Overrides.EndpointKey, AdminState> endpoints = new LinkedHashMap<>();
    fields.forEach((field, value) -> {
      try {
        if (field.startsWith(WEIGHTS)) {
          StateFile.RouteWeights rw = JSON.readValue(value, StateFile.RouteWeights.class);
          weights.put(field.substring(WEIGHTS.length()), new Overrides.Weights(refs(rw.backends()), refs(rw.fileBackends()), rw.split()));
        } else if (field.startsWith(ENDPOINT)) {
          StateFile.EndpointEntry entry = JSON.readValue(value, StateFile.EndpointEntry.class);
          endpoints.put(new Overrides.EndpointKey(entry.cluster(), HostPort.parse(entry.address())),
              AdminState.valueOf(entry.state().toUpperCase(Locale.ROOT)));
        }
      } catch (JsonProcessingException | RuntimeException e) {
        log.warn("fleet: override field {} skipped: {}", AccessLogFormat.escaped(new StringBuilder(), field), AccessLogFormat.escaped(new StringBuilder(), e.getMessage()));
      }
    });
    return new Overrides(weights, endpoints);
  }

  private static List<StateFile.Backend> backends(List<BackendRef> refs) {
    List<StateFile.Backend> list = new ArrayList<>();
    refs.forEach(r -> list.add(new StateFile.Backend(r.cluster(), r.weight())));
    return list;
  }

  private static List<BackendRef> refs(List<StateFile.Backend> backends) {
    List<BackendRef> list = new ArrayList<>();
    backends.forEach(b -> list.add(new BackendRef(b.cluster(), b.weight())));
    return list;
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
