package io.gatehouse.fleet;

import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * A versioned Redis hash the whole fleet shares, with a change notice: every write changes some
 * fields, bumps the {@code _version} field and publishes the new version, in one server-side
 * script (atomic: a reader never sees a change without its version). Readers re-read the whole
 * hash on a notice, when Redis comes back, and now and then; the hash is small (one field per
 * override).
 *
 * <p>An absent hash means Redis lost it (restarted without persistence) or the fleet is new: a
 * write then refuses ({@code -1}) and the writer {@link #seed}s the whole state instead, so a
 * single change never replaces a state nobody wrote back.
 */
public final class SharedHash {
  static final String VERSION = "_version";

  /** Applies {@code ARGV[2]} field/value pairs, then deletes the remaining fields; -1 if the hash is gone. */
  private static final String WRITE = """
      if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
      local n = tonumber(ARGV[2])
      local i = 3
      for _ = 1, n do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
      while i <= #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]); i = i + 1 end
      local v = redis.call('HINCRBY', KEYS[1], '_version', 1)
      redis.call('PUBLISH', ARGV[1], v)
      return v
      """;

  /** Creates the hash with every field at version {@code ARGV[2]} unless it exists; -1 if it does. */
  private static final String SEED = """
      if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
      local i = 3
      while i < #ARGV do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2 end
      redis.call('HSET', KEYS[1], '_version', ARGV[2])
      redis.call('PUBLISH', ARGV[1], ARGV[2])
      return tonumber(ARGV[2])
      """;

  /** The hash as read: {@code exists} false when Redis has no such hash (version 0, no fields). */
  public record Contents(boolean exists, long version, Map<String, String> fields) {}

  private final FleetClient fleet;
  private final String key;
  private final String channel;

  /** @param name the hash's name in the fleet's key space, e.g. {@code overrides} */
  public SharedHash(FleetClient fleet, String name) {
    this.fleet = fleet;
    this.key = fleet.key(name);
    this.channel = fleet.key(name + ":changes");
  }

  public String key() {
    return key;
  }

  /** Every field (without {@code _version}) and the version, in one read. */
  public CompletableFuture<Contents> read() {
    return fleet.call(r -> r.hgetall(key)).thenApply(all -> {
      Map<String, String> fields = new LinkedHashMap<>(all);
      String v = fields.remove(VERSION);
      return new Contents(!all.isEmpty(), v == null ? 0 : Long.parseLong(v), fields);
    });
  }

  /** The version alone (0 when the hash is absent): the cheap check behind a periodic re-read. */
  public CompletableFuture<Long> version() {
    return fleet.call(r -> r.hget(key, VERSION)).thenApply(v -> v == null ? 0L : Long.parseLong(v));
  }

  /** Sets {@code put}, deletes {@code remove}; the new version, or -1 when the hash is absent. */
  public CompletableFuture<Long> write(Map<String, String> put, Set<String> remove) {
    List<String> args = new ArrayList<>();
    args.add(channel);
    args.add(String.valueOf(put.size()));
    put.forEach((k, v) -> {
      args.add(k);
      args.add(v);
    });
    args.addAll(remove);
    return fleet.call(r -> r.<Long>eval(WRITE, ScriptOutputType.INTEGER, new String[] {key}, args.toArray(String[]::new)));
  }

  /** Creates the hash as {@code fields} at {@code version} unless it exists; the version, or -1. */
  public CompletableFuture<Long> seed(Map<String, String> fields, long version) {
    List<String> args = new ArrayList<>();
    args.add(channel);
    args.add(String.valueOf(version));
    fields.forEach((k, v) -> {
      args.add(k);
      args.add(v);
    });
    return fleet.call(r -> r.<Long>eval(SEED, ScriptOutputType.INTEGER, new String[] {key}, args.toArray(String[]::new)));
  }

  /** Hears each published version (on a Redis client thread: hand the work elsewhere). */
  public void onChange(LongConsumer listener) {
    fleet.subscribe(channel, message -> {
      try {
        listener.accept(Long.parseLong(message));
      } catch (NumberFormatException e) {
        listener.accept(-1); // not ours: re-read anyway
      }
    });
  }
}
