package io.gatehouse.fleet;

import io.gatehouse.ratelimit.RateLimiter;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How many instances the fleet runs, for limits that must be split while Redis is down
 * ({@code onStoreDown: local}): the instances whose heartbeat was alive (written within its TTL
 * of three heartbeats) at the last listing while Redis answered; {@code fleet.expectedInstances}
 * only until a listing saw one. Fed by the one heartbeat listing of the instance
 * ({@code FleetMember}), every {@code fleet.heartbeat}; while Redis is down the last count stands,
 * which is the fleet as it was when Redis went.
 */
public final class FleetSize {
  private final int expected;
  /** Alive instances at the last listing; 0 until one saw any. Written by a Redis client thread. */
  private volatile int live;

  public FleetSize(int expected) {
    this.expected = Math.max(1, expected);
  }

  /** A size that is always {@code n} (tests, and callers without heartbeats). */
  public static FleetSize fixed(int n) {
    return new FleetSize(n);
  }

  /** Counts the alive instances of a heartbeat listing; a listing without any leaves the count as it was. */
  public void count(List<Heartbeats.Beat> beats) {
    int alive = (int) beats.stream().filter(Heartbeats.Beat::alive).count();
    if (alive > 0) {
      live = alive;
    }
  }

  /** The live count when one was ever seen, else {@code expectedInstances}. */
  public int instances() {
    int n = live;
    return n > 0 ? n : expected;
  }

  /** Alive instances at the last listing, 0 before any (tests, status). */
  public int live() {
    return live;
  }

  /**
   * A local bucket with a limit divided by the fleet's size, rebuilt when the size changed (a new
   * bucket starts full: at most one burst share more, once per change).
   */
  static final class Share {
    private record Sized(int instances, RateLimiter limiter) {}

    private final double perSecond;
    private final int burst;
    private final FleetSize size;
    private final AtomicReference<Sized> current = new AtomicReference<>();

    Share(double perSecond, int burst, FleetSize size) {
      this.perSecond = perSecond;
      this.burst = burst;
      this.size = size;
    }

    RateLimiter limiter() {
      int n = size.instances();
      Sized s = current.get();
      if (s == null || s.instances() != n) {
        Sized fresh = new Sized(n, new RateLimiter(perSecond / n, Math.max(1, burst / n)));
        s = current.compareAndSet(s, fresh) ? fresh : current.get();
      }
      return s.limiter();
    }
  }
}
