package io.gatehouse.fleet;

import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.ratelimit.Limiter;
import io.gatehouse.ratelimit.Verdict;
import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.lang.ref.WeakReference;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A route's rate limit counted across the fleet: one GCRA bucket per key in Redis, updated by an
 * atomic script on Redis's clock ({@code TIME}), handed out in small leases so the request path
 * almost never waits on Redis.
 *
 * <p>Each instance keeps permits in hand per key ({@link KeyLease}) and refills ahead: after every
 * decision it tops the key up so that the permits in hand plus those asked for cover two Redis
 * round trips of its observed rate, or one lease if that is more (the low-water mark), with up to
 * {@link #MAX_IN_FLIGHT} lease requests in flight per key. A lease is about 1/2 s of this
 * instance's observed rate for the key, at least 1 and at most {@link #leaseSize} (1/20 s of the
 * limit, at most the burst): an instance with little traffic for a key holds little of it. Only a
 * request that finds no permit while the key is below the fleet's limit waits for a reply
 * ({@link Verdict.Pending}, parked without blocking an event loop); at the limit (Redis granted
 * less than asked lately) it is refused at once, and the permits on their way serve later ones.
 *
 * <p>Every permit is granted by the script, so over a long run the fleet admits no more than the
 * limit; a leased permit may be spent a little after it was granted, so over a short window the
 * fleet may admit up to {@code instances x (MAX_IN_FLIGHT + 1) x leaseSize} more. Permits of a key
 * idle for {@link #RETURN_AFTER_NANOS} go back to Redis (its bucket's time moves back by as many
 * emission intervals), so idle instances do not hoard. A refused lease says until when the bucket
 * is full: until then this instance refuses that key without asking Redis again.
 *
 * <p>While Redis is down (or a lease request fails), {@code onStoreDown} decides: {@code allow},
 * {@code deny} (429, "rate limit store unavailable"), or {@code local} (a local bucket with the
 * limit divided by the fleet's live size, see {@link FleetSize}). A change between those and fleet
 * counting is one log line ({@link StoreModes}); fleet counting resumes at the first lease granted.
 *
 * <p>Thread-safe and lock-free: decisions come from every event loop, replies complete on Redis
 * client threads; per-key state is atomics.
 */
public final class FleetRateLimiter implements Limiter {
  private static final int SWEEP_ABOVE = 100_000;
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Permits of a key unused this long go back to Redis. */
  static final long RETURN_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** How long "Redis granted less than asked" marks a key as at the fleet's limit. */
  private static final long SATURATED_NANOS = TimeUnit.SECONDS.toNanos(1);
  /**
   * A lease covers about this much of the instance's observed traffic for the key (at most
   * {@link #leaseSize}): long enough that a key at a modest rate costs one Redis call per several
   * requests, short enough that an instance holds little of a key it barely uses.
   */
  private static final double LEASE_SECONDS = 0.5;
  /** Lease requests in flight per key and instance. */
  static final int MAX_IN_FLIGHT = 4;
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

  /**
   * KEYS[1] the bucket; ARGV: emission interval in microseconds, permits given back unspent. Moves
   * the TAT back by as many intervals, as if they had never been granted (a TAT at or before now
   * is a full bucket: the key goes). Never more than granted comes back, so the limit still holds.
   */
  static final String RETURN_SCRIPT = """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
      local tat = tonumber(redis.call('GET', KEYS[1]) or 0) - tonumber(ARGV[1]) * tonumber(ARGV[2])
      if tat <= now then
        redis.call('DEL', KEYS[1])
        return 0
      end
      redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
      return 1
      """;

  private final FleetClient fleet;
  private final String prefix;
  private final LongSupplier clock;
  private final double perSecond;
  private final long intervalMicros;
  private final long toleranceMicros;
  private final int leaseSize;
  /** How long a request may wait for a lease before {@code onStoreDown} decides it. */
  private final long maxWaitNanos;
  private final RateLimitConfig.StoreDown onStoreDown;
  private final FleetSize.Share localFallback;
  private final StoreModes.Mode modes;
  private final Map<String, KeyLease> leases = new ConcurrentHashMap<>();
  /** Smoothed Redis round trip of a lease request; written by replies, a lost update is harmless. */
  private volatile long roundTripNanos;

  /**
   * @param route the route's name: part of the Redis keys, so each route has its own buckets
   * @param size the fleet's size for {@code onStoreDown: local}
   */
  public FleetRateLimiter(FleetClient fleet, String route, RateLimitConfig config, FleetSize size,
      StoreModes modes, LongSupplier clock) {
    this.fleet = fleet;
    this.prefix = fleet.key("ratelimit:" + route + ":");
    this.clock = clock;
    this.perSecond = config.perSecond();
    this.intervalMicros = Math.max(1, (long) (1_000_000 / config.perSecond()));
    this.toleranceMicros = intervalMicros * config.burst();
    this.leaseSize = leaseSize(config.perSecond(), config.burst());
    this.maxWaitNanos = config.maxWait().toNanos();
    this.onStoreDown = config.onStoreDown();
    this.localFallback = new FleetSize.Share(config.perSecond(), config.burst(), size);
    this.modes = modes.register(route, config.onStoreDown(), fleet.status().isUp());
    ReturnIdle.schedule(this, fleet);
  }

  /**
   * Most permits per lease: about 1/20 s of the rate (a refill every 50 ms at full rate per
   * instance), at least 1 and at most the burst (a lease never holds more than the bucket).
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
    KeyLease lease = lease(key, nowNanos);
    lease.observe(nowNanos);
    CompletableFuture<Void> next = lease.nextArrival();
    if (lease.take()) {
      topUp(lease, key, nowNanos);
      return Verdict.ADMIT;
    }
    long denied = lease.deniedUntilNanos - nowNanos;
    if (denied > 0) {
      return new Verdict.Reject(denied, null);
    }
    if (lease.saturatedUntilNanos - nowNanos > 0) {
      // At the fleet's limit: parking this request would only have it decided by onStoreDown
      // after maxWait; the permits asked for now serve the next requests.
      topUp(lease, key, nowNanos);
      return new Verdict.Reject(TimeUnit.MICROSECONDS.toNanos(intervalMicros), null);
    }
    return pending(lease, key, next);
  }

  private Verdict pending(KeyLease lease, String key, CompletableFuture<Void> next) {
    lease.waiters.incrementAndGet();
    modes.waiting.incrementAndGet();
    topUp(lease, key, clock.getAsLong());
    CompletableFuture<Verdict> later = next.thenApply(v -> afterReply(lease, key));
    later.whenComplete((v, e) -> {
      lease.waiters.decrementAndGet();
      modes.waiting.decrementAndGet();
    });
    return new Verdict.Pending(later, maxWaitNanos, () -> fallback(key, clock.getAsLong()));
  }

  /** On a Redis client thread, after a reply: a permit, a refusal, or (others took them) wait again. */
  private Verdict afterReply(KeyLease lease, String key) {
    CompletableFuture<Void> next = lease.nextArrival();
    if (lease.take()) {
      return Verdict.ADMIT;
    }
    long now = clock.getAsLong();
    long denied = lease.deniedUntilNanos - now;
    if (denied > 0) {
      return new Verdict.Reject(denied, null);
    }
    return pending(lease, key, next);
  }

  /**
   * Refills ahead: asks for leases while the permits in hand and asked for are below the low-water
   * mark and fewer than {@link #MAX_IN_FLIGHT} are in flight. The mark is one lease, or two round
   * trips of this key's observed rate (capped at the limit; the margin covers a slower reply) plus
   * one permit per parked request if that is more: a busy key never runs dry while a lease is on its way, and a key seen now and
   * then asks for exactly what its one request needs (nothing left over to hand back).
   */
  private void topUp(KeyLease lease, String key, long nowNanos) {
    if (lease.deniedUntilNanos - nowNanos > 0) {
      return;
    }
    double rate = Math.min(lease.perSecond(), perSecond);
    int want = (int) Math.max(1, Math.min(leaseSize, Math.ceil(rate * LEASE_SECONDS)));
    long need = Math.max(want, lease.waiters.get() + (long) (rate * roundTripNanos * 2 / 1e9));
    while (true) {
      int inFlight = lease.inFlight.get();
      if (inFlight >= MAX_IN_FLIGHT || lease.permits.get() + lease.asked.get() >= need) {
        return;
      }
      if (lease.inFlight.compareAndSet(inFlight, inFlight + 1)) {
        lease.asked.addAndGet(want);
        ask(lease, key, want);
      }
    }
  }

  private void ask(KeyLease lease, String key, int want) {
    long sentNanos = clock.getAsLong();
    fleet.call(r -> r.<List<Long>>eval(SCRIPT, ScriptOutputType.MULTI, new String[] {redisKey(key)},
            String.valueOf(intervalMicros), String.valueOf(toleranceMicros), String.valueOf(want)))
        .whenComplete((reply, failure) -> {
          long now = clock.getAsLong();
          lease.asked.addAndGet(-want);
          lease.inFlight.decrementAndGet();
          if (failure != null) {
            modes.degraded(failure.getClass().getSimpleName());
            lease.failed(failure);
            return;
          }
          long rtt = now - sentNanos;
          long smoothed = roundTripNanos;
          roundTripNanos = smoothed == 0 ? rtt : smoothed + (rtt - smoothed) / 8;
          int granted = reply.get(0).intValue();
          if (granted > 0) {
            lease.permits.addAndGet(granted);
          } else {
            lease.deniedUntilNanos = sentNanos + TimeUnit.MICROSECONDS.toNanos(reply.get(1));
          }
          if (granted < want) {
            lease.saturatedUntilNanos = now + SATURATED_NANOS;
          }
          modes.fleet();
          lease.arrived();
          if (lease.waiters.get() > 0) {
            topUp(lease, key, now); // parked requests still want permits
          }
        });
  }

  /** Gives the permits of keys idle for {@link #RETURN_AFTER_NANOS} back; drops long-idle keys. */
  void returnIdle() {
    long now = clock.getAsLong();
    leases.forEach((key, lease) -> {
      long idle = now - lease.lastUsedNanos;
      if (idle > RETURN_AFTER_NANOS && lease.permits.get() > 0 && fleet.status().isUp()) {
        int unused = lease.permits.getAndSet(0);
        if (unused > 0) {
          fleet.call(r -> r.<Long>eval(RETURN_SCRIPT, ScriptOutputType.INTEGER, new String[] {redisKey(key)},
              String.valueOf(intervalMicros), String.valueOf(unused)));
        }
      }
      if (idle > IDLE_NANOS && lease.inFlight.get() == 0 && lease.permits.get() == 0) {
        leases.remove(key, lease);
      }
    });
  }

  /**
   * Runs {@link #returnIdle} every {@link #RETURN_AFTER_NANOS} while the limiter is in use: the
   * task holds it weakly, so a limiter a reload replaced stops being swept once it is collected.
   */
  private static final class ReturnIdle implements Runnable {
    private final WeakReference<FleetRateLimiter> limiter;
    private volatile Future<?> task;

    private ReturnIdle(FleetRateLimiter limiter) {
      this.limiter = new WeakReference<>(limiter);
    }

    static void schedule(FleetRateLimiter limiter, FleetClient fleet) {
      ReturnIdle sweep = new ReturnIdle(limiter);
      sweep.task = fleet.every(Duration.ofNanos(RETURN_AFTER_NANOS), sweep);
    }

    @Override
    public void run() {
      FleetRateLimiter l = limiter.get();
      if (l != null) {
        l.returnIdle();
      } else if (task != null) {
        task.cancel(false);
      }
    }
  }

  /** Permits of {@code key} in hand on this instance (tests). */
  int permitsInHand(String key) {
    KeyLease lease = leases.get(key);
    return lease == null ? 0 : lease.permits.get();
  }

  private Verdict fallback(String key, long nowNanos) {
    return switch (onStoreDown) {
      case ALLOW -> Verdict.ADMIT;
      case DENY -> new Verdict.Reject(TimeUnit.SECONDS.toNanos(1), "rate limit store unavailable");
      case LOCAL -> localFallback.limiter().decide(key, nowNanos);
    };
  }

  private KeyLease lease(String key, long nowNanos) {
    KeyLease lease = leases.get(key);
    if (lease == null) {
      if (leases.size() > SWEEP_ABOVE) {
        // Idle keys go (with the few permits they held: at worst a little under-admission).
        leases.values().removeIf(l -> nowNanos - l.lastUsedNanos > IDLE_NANOS && l.inFlight.get() == 0);
      }
      lease = leases.computeIfAbsent(key, k -> new KeyLease(nowNanos));
    }
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
