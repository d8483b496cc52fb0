package io.gatehouse.fleet;

import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.ratelimit.Limiter;
import io.gatehouse.ratelimit.RateLimiter;
import io.gatehouse.ratelimit.Verdict;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * A route's rate limit counted across the fleet: one GCRA bucket per key in Redis, updated by an
 * atomic script on Redis's clock ({@code TIME}), handed out in small leases so the request path
 * normally never waits on Redis.
 *
 * <p>Each instance takes a lease of {@link #leaseSize} permits for a key, spends it locally, and
 * asks for the next one when it runs low (a prefetch, off the request path). Only a request that
 * finds no permit left waits for the refill ({@link Verdict.Pending}, parked without blocking an
 * event loop). Every permit is granted by the script, so over a long run the fleet admits no more
 * than the limit; a leased permit may be spent a little after it was granted, so over a short
 * window the fleet may admit up to {@code instances x 2 x leaseSize} more (a lease in hand plus one
 * prefetched per instance and key). A refused refill says until when the bucket is full: until
 * then this instance refuses that key without asking Redis again.
 *
 * <p>While Redis is down (or a refill fails), {@code onStoreDown} decides: {@code allow},
 * {@code deny} (429, "rate limit store unavailable"), or {@code local} (a local bucket with the limit
 * divided by the expected number of instances). A change between those and fleet counting is one
 * log line ({@link StoreModes}); fleet counting resumes at the first refill that succeeds.
 *
 * <p>Thread-safe and lock-free: decisions come from every event loop, refills complete on Redis
 * client threads; per-key state is atomics.
 */
public final class FleetRateLimiter implements Limiter {
  private static final int SWEEP_ABOVE = 100_000;
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int MAX_KEY_CHARS = 128;

  /**
   * KEYS[1] the bucket (its theoretical arrival time, TAT, in microseconds of Redis time);
   * ARGV: emission interval and tolerance (burst x interval) in microseconds, permits wanted.
   * Grants as many as fit (GCRA: the TAT may run ahead of now by at most the tolerance) and
   * returns {granted, microseconds until one more would fit}. The key expires when the bucket is
   * full again. Numbers stay below 2^53 (doubles in Lua 5.1); %.0f keeps every digit.
   */
  static final String SCRIPT = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local interval = tonumber(ARGV[1])
      local tolerance = tonumber(ARGV[2])
      local want = tonumber(ARGV[3])
      local tat = tonumber(redis.call('GET', KEYS[1]) or now)
      if tat < now then tat = now end
      local room = math.floor((now + tolerance - tat) / interval)
      local granted = math.min(want, room)
      if granted <= 0 then
        return {0, math.max(1, math.ceil(tat + interval - tolerance - now))}
      end
      tat = tat + granted * interval
      redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
      return {granted, 0}
      """;

  private final FleetClient fleet;
  private final String prefix;
  private final LongSupplier clock;
  private final long intervalMicros;
  private final long toleranceMicros;
  private final int leaseSize;
  /** How long a request may wait for a refill before {@code onStoreDown} decides it. */
  private final long maxWaitNanos;
  private final RateLimitConfig.StoreDown onStoreDown;
  private final RateLimiter localFallback;
  private final StoreModes.Mode modes;
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();

  /** One key's permits in hand on this instance. */
  private static final class Lease {
    final AtomicInteger permits = new AtomicInteger();
    /** The refill in flight (completes with the permits granted), or null. */
    final AtomicReference<CompletableFuture<Integer>> refill = new AtomicReference<>();
    /** Local time before which Redis said no permit fits: refused here without asking. */
    volatile long deniedUntilNanos;
    volatile long lastUsedNanos;
  }

  /**
   * @param route the route's name: part of the Redis keys, so each route has its own buckets
   * @param instances the fleet's size for {@code onStoreDown: local}
   */
  public FleetRateLimiter(FleetClient fleet, String route, RateLimitConfig config, int instances,
      StoreModes modes, LongSupplier clock) {
    this.fleet = fleet;
    this.prefix = fleet.key("ratelimit:" + route + ":");
    this.clock = clock;
    this.intervalMicros = Math.max(1, (long) (1_000_000 / config.perSecond()));
    this.toleranceMicros = intervalMicros * config.burst();
    this.leaseSize = leaseSize(config.perSecond(), config.burst());
    this.maxWaitNanos = config.maxWait().toNanos();
    this.onStoreDown = config.onStoreDown();
    int n = Math.max(1, instances);
    this.localFallback = new RateLimiter(config.perSecond() / n, Math.max(1, config.burst() / n));
    this.modes = modes.register(route, config.onStoreDown(), fleet.status().isUp());
  }

  /**
   * Permits per lease: about 1/20 s of the rate (a refill every 50 ms at full rate per instance),
   * at least 1 and at most the burst (a lease never holds more than the bucket).
   */
  static int leaseSize(double perSecond, int burst) {
    return (int) Math.max(1, Math.min(burst, Math.floor(perSecond / 20)));
  }

  public int leaseSize() {
    return leaseSize;
  }

  @Override
  public Verdict decide(String key, long nowNanos) {
    if (!fleet.status().isUp()) {
      modes.degraded("Redis down");
      return fallback(key, nowNanos);
    }
    Lease lease = lease(key, nowNanos);
    if (take(lease)) {
      if (lease.permits.get() <= leaseSize / 2) {
        refill(lease, key); // prefetch: the next requests find permits in hand
      }
      return Verdict.ADMIT;
    }
    long denied = lease.deniedUntilNanos - nowNanos;
    if (denied > 0 && lease.refill.get() == null) {
      return new Verdict.Reject(denied, null);
    }
    return pending(lease, key);
  }

  private Verdict pending(Lease lease, String key) {
    CompletableFuture<Verdict> later = refill(lease, key).thenApply(granted -> afterRefill(lease, key));
    modes.waiting.incrementAndGet();
    later.whenComplete((v, e) -> modes.waiting.decrementAndGet());
    return new Verdict.Pending(later, maxWaitNanos, () -> fallback(key, clock.getAsLong()));
  }

  /** On a Redis client thread, after a refill: a permit, a refusal, or (others took them) wait again. */
  private Verdict afterRefill(Lease lease, String key) {
    if (take(lease)) {
      return Verdict.ADMIT;
    }
    long denied = lease.deniedUntilNanos - clock.getAsLong();
    if (denied > 0) {
      return new Verdict.Reject(denied, null);
    }
    return pending(lease, key);
  }

  private static boolean take(Lease lease) {
    while (true) {
      int p = lease.permits.get();
      if (p <= 0) {
        return false;
      }
      if (lease.permits.compareAndSet(p, p - 1)) {
        return true;
      }
    }
  }

  /** The refill in flight for this key, or a new one; its future completes with the permits granted. */
  private CompletableFuture<Integer> refill(Lease lease, String key) {
    while (true) {
      CompletableFuture<Integer> inFlight = lease.refill.get();
      if (inFlight != null) {
        return inFlight;
      }
      CompletableFuture<Integer> mine = new CompletableFuture<>();
      if (lease.refill.compareAndSet(null, mine)) {
        ask(lease, key, mine);
        return mine;
      }
    }
  }

  private void ask(Lease lease, String key, CompletableFuture<Integer> result) {
    long sentNanos = clock.getAsLong();
    fleet.call(r -> r.<List<Long>>eval(SCRIPT, ScriptOutputType.MULTI, new String[] {redisKey(key)},
            String.valueOf(intervalMicros), String.valueOf(toleranceMicros), String.valueOf(leaseSize)))
        .whenComplete((reply, failure) -> {
          if (failure != null) {
            lease.refill.set(null);
            modes.degraded(failure.getClass().getSimpleName());
            result.completeExceptionally(failure);
            return;
          }
          int granted = reply.get(0).intValue();
          if (granted > 0) {
            lease.permits.addAndGet(granted);
          } else {
            lease.deniedUntilNanos = sentNanos + TimeUnit.MICROSECONDS.toNanos(reply.get(1));
          }
          lease.refill.set(null);
          modes.fleet();
          result.complete(granted);
        });
  }

  private Verdict fallback(String key, long nowNanos) {
    return switch (onStoreDown) {
      case ALLOW -> Verdict.ADMIT;
      case DENY -> new Verdict.Reject(TimeUnit.SECONDS.toNanos(1), "rate limit store unavailable");
      case LOCAL -> localFallback.decide(key, nowNanos);
    };
  }

  private Lease lease(String key, long nowNanos) {
    Lease lease = leases.get(key);
    if (lease == null) {
      if (leases.size() > SWEEP_ABOVE) {
        // Idle keys go (with the few permits they held: at worst a little under-admission).
        leases.values().removeIf(l -> nowNanos - l.lastUsedNanos > IDLE_NANOS);
      }
      lease = leases.computeIfAbsent(key, k -> new Lease());
    }
    lease.lastUsedNanos = nowNanos;
    return lease;
  }

  /** Keys tracked on this instance (tests). */
  int trackedKeys() {
    return leases.size();
  }

  /**
   * The bucket's Redis key. The limit key may be client-sent (a header): a long one is hashed so
   * no client chooses the size of a Redis key.
   */
  private String redisKey(String key) {
    if (key.length() <= MAX_KEY_CHARS) {
      return prefix + key;
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return prefix + "sha256:" + HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
