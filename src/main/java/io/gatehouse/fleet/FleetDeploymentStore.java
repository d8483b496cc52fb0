package io.gatehouse.fleet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentStore;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's deployments, in one Redis hash ({@code gatehouse:{fleet}:deployments}, one JSON
 * value per id, and a {@code _version} bumped by every write and published as a change notice): a deployment started, promoted or
 * rolled back on any instance is the same record for every instance, and whichever instance holds
 * its {@link JudgeLeases} lease continues it from here.
 *
 * <p>Reads never wait on Redis: {@link #all} is the list as last read, refreshed in the background
 * every heartbeat, on every change notice ({@code gatehouse:{fleet}:deployments:changes}) and when
 * Redis comes back; {@link #readAt} says how old it is. A write ({@link #replace}) is a
 * compare-and-set in one script: it applies only over the record its writer read, so a judge's
 * verdict and an operator's action on another instance cannot overwrite each other. A write while
 * Redis is down fails ({@link FleetDownException}): a step that cannot be shared is not taken.
 *
 * <p>Redis restarted empty (no persistence) loses the hash: the first instance to reconnect writes
 * back every record it knows that Redis lacks, as {@code SharedHash} does for the overrides.
 */
public final class FleetDeploymentStore implements DeploymentStore {
  private static final Logger log = LoggerFactory.getLogger(FleetDeploymentStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VERSION = "_version";
  /** Sets ARGV[4] at field ARGV[2] if that field holds ARGV[3] ('' = absent); the new version, or -1. */
  private static final String REPLACE = """
      local cur = redis.call('HGET', KEYS[1], ARGV[2])
      if (cur or '') ~= ARGV[3] then return -1 end
      redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
      local v = redis.call('HINCRBY', KEYS[1], '_version', 1)
      redis.call('PUBLISH', ARGV[1], v)
      return v
      """;
  /** Writes back each id/json pair Redis lacks (HSETNX); the number written. */
  private static final String RESTORE = """
      local n = 0
      local i = 2
      while i < #ARGV do n = n + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
      if n > 0 then
        local v = redis.call('HINCRBY', KEYS[1], '_version', 1)
        redis.call('PUBLISH', ARGV[1], v)
      end
      return n
      """;

  /** The list as last read or written, each record's JSON as stored, the hash's version, when read. */
  private record Known(List<Deployment> list, Map<String, String> json, long version, long readAt) {}

  private final FleetClient fleet;
  private final String key;
  private final String channel;
  private volatile Known known = new Known(List.of(), Map.of(), -1, 0);

  public FleetDeploymentStore(FleetClient fleet) {
    this.fleet = fleet;
    this.key = fleet.key("deployments");
    this.channel = fleet.key("deployments:changes");
  }

  /** Keeps the list fresh: notices, Redis coming back (with the write-back), every heartbeat. */
  public void start() {
    fleet.subscribe(channel, message -> refresh());
    fleet.status().addListener(up -> {
      if (up) {
        refresh().thenCompose(ignored -> restore());
      }
    });
    fleet.every(fleet.config().heartbeat(), () -> {
      if (fleet.status().isUp()) {
        refresh();
      }
    });
    if (fleet.status().isUp()) {
      refresh().thenCompose(ignored -> restore());
    }
  }

  /** The deployments as last read: never a round trip to Redis. */
  @Override
  public List<Deployment> all() {
    return known.list();
  }

  @Override
  public long readAt() {
    return known.readAt();
  }

  /** Reads the hash (in the background) and keeps it unless a newer version is known already. */
  public CompletableFuture<Void> refresh() {
    return fleet.call(r -> r.hgetall(key)).thenAccept(all -> {
      String v = all.get(VERSION);
      long version = v == null ? 0 : Long.parseLong(v);
      List<Deployment> list = new ArrayList<>();
      Map<String, String> json = new HashMap<>();
      all.forEach((id, value) -> {
        if (id.equals(VERSION)) {
          return;
        }
        try {
          list.add(JSON.readValue(value, Deployment.class));
          json.put(id, value);
        } catch (JsonProcessingException e) {
          log.warn("fleet: deployment {} in Redis skipped: {}", id.replaceAll("[^\\x20-\\x7e]", "?"), e.getOriginalMessage());
        }
      });
      list.sort(Comparator.comparingLong(Deployment::createdAt).thenComparing(Deployment::id));
      synchronized (this) {
        Known k = known;
        // An empty hash (Redis restarted empty) never replaces what is known: restore() writes it back.
        // Replies come in command order on the one connection, so a read never undoes a later write.
        known = all.isEmpty() && !k.list().isEmpty()
            ? new Known(k.list(), k.json(), k.version(), System.currentTimeMillis())
            : new Known(List.copyOf(list), Map.copyOf(json), version, System.currentTimeMillis());
      }
    });
  }

  /** Writes back the records Redis lacks (it restarted empty): nothing is lost with it. */
  private CompletableFuture<Long> restore() {
    Known k = known;
    if (k.json().isEmpty()) {
      return CompletableFuture.completedFuture(0L);
    }
    List<String> args = new ArrayList<>();
    args.add(channel);
    k.json().forEach((id, json) -> {
      args.add(id);
      args.add(json);
    });
    return fleet.<Long>call(r -> r.eval(RESTORE, ScriptOutputType.INTEGER, new String[] {key}, args.toArray(String[]::new)))
        .whenComplete((n, failure) -> {
          if (n != null && n > 0) {
            log.info("fleet: {} deployment(s) missing in Redis written back from this instance's last known state", n);
          }
        });
  }

  @Override
  public boolean replace(Deployment expected, Deployment next) {
    Known k = known;
    String was = "";
    if (expected != null) {
      String stored = k.json().get(expected.id());
      Deployment current = k.list().stream().filter(d -> d.id().equals(expected.id())).findFirst().orElse(null);
      was = stored != null && Objects.equals(current, expected) ? stored : json(expected);
    }
    String json = json(next);
    String before = was;
    long v;
    try {
      v = fleet.<Long>call(r -> r.eval(REPLACE, ScriptOutputType.INTEGER, new String[] {key}, channel, next.id(), before,
          json)).get(timeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FleetDownException(fleet.config().redis().toString());
    } catch (ExecutionException | TimeoutException e) {
      throw new FleetDownException(fleet.config().redis().toString());
    }
    if (v < 0) {
      refresh(); // someone else wrote it: read theirs
      return false;
    }
    synchronized (this) {
      Known now = known;
      List<Deployment> list = new ArrayList<>(now.list());
      list.removeIf(d -> d.id().equals(next.id()));
      list.add(next);
      list.sort(Comparator.comparingLong(Deployment::createdAt).thenComparing(Deployment::id));
      Map<String, String> jsons = new LinkedHashMap<>(now.json());
      jsons.put(next.id(), json);
      known = new Known(List.copyOf(list), Map.copyOf(jsons), v, now.readAt());
    }
    if (!next.state().running()) {
      prune(next.route());
    }
    return true;
  }

  /**
   * Forgets the oldest ended deployments of {@code route} beyond {@link #KEEP_ENDED}, as the state
   * file does: the hash every instance reads each heartbeat must not grow with every deployment
   * ever made. In the background; a failure leaves them for the next end.
   */
  private void prune(String route) {
    List<String> ended = known.list().stream()
        .filter(d -> d.route().equals(route) && !d.state().running())
        .sorted(Comparator.comparingLong(Deployment::createdAt))
        .map(Deployment::id).toList();
    if (ended.size() <= KEEP_ENDED) {
      return;
    }
    String[] drop = ended.subList(0, ended.size() - KEEP_ENDED).toArray(String[]::new);
    synchronized (this) {
      Known now = known;
      List<String> gone = List.of(drop);
      Map<String, String> jsons = new LinkedHashMap<>(now.json());
      jsons.keySet().removeAll(gone);
      known = new Known(now.list().stream().filter(d -> !gone.contains(d.id())).toList(), Map.copyOf(jsons),
          now.version(), now.readAt());
    }
    fleet.call(r -> r.hdel(key, drop));
  }

  @Override
  public void put(Deployment deployment) {
    Deployment current = known.list().stream().filter(d -> d.id().equals(deployment.id())).findFirst().orElse(null);
    if (!replace(current, deployment)) {
      throw new FleetDownException(fleet.config().redis().toString()); // not reached by the controller, which replaces
    }
  }

  private static String json(Deployment d) {
    try {
      return JSON.writeValueAsString(d);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write deployment " + d.id() + " as JSON", e);
    }
  }

  private long timeoutMillis() {
    return fleet.config().timeout().toMillis();
  }
}
