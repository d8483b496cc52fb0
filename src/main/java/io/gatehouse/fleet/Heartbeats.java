package io.gatehouse.fleet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Range;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.SetArgs;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Every instance says it is alive: each {@code fleet.heartbeat} it writes what it is running
 * (admin address, generation, fleet version, Gatehouse version, time) to a key that expires after
 * three heartbeats ({@code gatehouse:{fleet}:instance:NAME}), and stamps its name in an index
 * ({@code gatehouse:{fleet}:instances}, scored by the time) so a listing also shows instances that
 * stopped beating, for an hour.
 */
public final class Heartbeats {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FORGET_AFTER = Duration.ofHours(1);

  /** What one instance said in its last heartbeat; {@code alive} false once its key expired. */
  public record Beat(String instance, String admin, long generation, long fleetVersion, String version,
      long timeMillis, boolean alive) {
    public Instant time() {
      return Instant.ofEpochMilli(timeMillis);
    }
  }

  private final FleetClient fleet;
  private final Clock clock;
  private final String index;

  public Heartbeats(FleetClient fleet, Clock clock) {
    this.fleet = fleet;
    this.clock = clock;
    this.index = fleet.key("instances");
  }

  private String key(String instance) {
    return fleet.key("instance:" + instance);
  }

  /** Beats every {@code fleet.heartbeat} while Redis is up (a beat while it is down is skipped). */
  public void start(Supplier<Beat> self) {
    fleet.every(fleet.config().heartbeat(), () -> {
      if (fleet.status().isUp()) {
        beat(self.get());
      }
    });
  }

  /** One heartbeat now. */
  public CompletableFuture<Void> beat(Beat beat) {
    String json;
    try {
      json = JSON.writeValueAsString(beat);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a heartbeat as JSON", e); // strings and numbers: a bug
    }
    long ttl = fleet.config().heartbeat().toMillis() * 3;
    long now = clock.millis();
    CompletableFuture<String> set = fleet.call(r -> r.set(key(beat.instance()), json, SetArgs.Builder.px(ttl)));
    CompletableFuture<Long> stamp = fleet.call(r -> r.zadd(index, now, beat.instance()));
    CompletableFuture<Long> forget = fleet.call(r -> r.zremrangebyscore(index,
        Range.create(0, (double) (now - FORGET_AFTER.toMillis()))));
    return CompletableFuture.allOf(set, stamp, forget);
  }

  /** Every instance seen in the last hour, the most recent beat first. */
  public CompletableFuture<List<Beat>> list() {
    return fleet.call(r -> r.zrevrangeWithScores(index, 0, -1)).thenCompose(names -> {
      if (names.isEmpty()) {
        return CompletableFuture.completedFuture(List.of());
      }
      String[] keys = names.stream().map(n -> key(n.getValue())).toArray(String[]::new);
      return fleet.call(r -> r.mget(keys)).thenApply(values -> {
        List<Beat> beats = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          ScoredValue<String> name = names.get(i);
          KeyValue<String, String> value = values.get(i);
          beats.add(value.hasValue() ? parse(value.getValue(), name)
              : new Beat(name.getValue(), null, 0, 0, null, (long) name.getScore(), false));
        }
        return beats;
      });
    });
  }

  private static Beat parse(String json, ScoredValue<String> name) {
    try {
      Beat b = JSON.readValue(json, Beat.class);
      return new Beat(b.instance(), b.admin(), b.generation(), b.fleetVersion(), b.version(), b.timeMillis(), true);
    } catch (JsonProcessingException e) {
      return new Beat(name.getValue(), null, 0, 0, null, (long) name.getScore(), true); // alive, unreadable
    }
  }
}
