package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Everything known about one upstream address, kept across config reloads so health, ejections
 * and latency history survive them. Written by every event loop and the health checker at once,
 * hence atomics and volatiles only: no locks on the request path. Compound updates (an ejection,
 * the start of a slow-start ramp) may race harmlessly; the worst case is a slightly stale value.
 *
 * <p>Times are {@code System.nanoTime()}-style values supplied by the caller and compared by
 * subtraction, so they may be negative and may wrap.
 */
public final class EndpointState {
  /** Latency EWMA time constant, as in Finagle/Linkerd: long enough to ride out one slow reply. */
  static final long EWMA_TAU_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Weight of one request in {@link #recentErrorRate()}: about the last 20 requests matter. */
  private static final double ERROR_ALPHA = 0.05;

  private final HostPort address;
  /** {@code address} as the access log and the response's upstream label write it, built once. */
  private final String label;
  private volatile Health health = Health.STARTING;
  private volatile AdminState adminState = AdminState.ACTIVE;
  private final AtomicLong inFlight = new AtomicLong();
  private final LongAdder requests = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final PeakEwma latency = new PeakEwma(EWMA_TAU_NANOS);
  private final LatencyWindow window = new LatencyWindow();
  private final AtomicLong errorRateBits = new AtomicLong(Double.doubleToRawLongBits(0));

  // Passive outlier detection; the detector is replaced by each new cluster generation.
  private volatile OutlierDetector detector;
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private final AtomicInteger ejections = new AtomicInteger();
  private volatile boolean everEjected;
  private volatile long ejectedUntilNanos;

  // Start of the current slow-start ramp: when it came UP, or when its last ejection ended.
  private volatile boolean everCameUp;
  private volatile long upSinceNanos;

  EndpointState(HostPort address) {
    this.address = address;
    this.label = address.toString();
  }

  public HostPort address() {
    return address;
  }

  /** The address as text ({@code host:port}, {@code [v6]:port}). */
  public String label() {
    return label;
  }

  public Health health() {
    return health;
  }

  public AdminState adminState() {
    return adminState;
  }

  public void setAdminState(AdminState s) {
    adminState = java.util.Objects.requireNonNull(s, "adminState");
  }

  /**
   * As {@link #setAdminState(AdminState)}; an endpoint an operator puts back into service while
   * healthy starts a slow-start ramp at {@code nowNanos}, like one that came back UP: its pools are
   * cold and its caches may be too.
   */
  public void setAdminState(AdminState s, long nowNanos) {
    AdminState old = adminState;
    setAdminState(s);
    if (s == AdminState.ACTIVE && old != AdminState.ACTIVE && health == Health.UP) {
      upSinceNanos = nowNanos;
      everCameUp = true;
    }
  }

  /** Set by the health checker; a transition to {@link Health#UP} starts the slow-start ramp. */
  public void setHealth(Health h, long nowNanos) {
    java.util.Objects.requireNonNull(h, "health");
    Health old = health;
    if (h == Health.UP && old != Health.UP) {
      upSinceNanos = nowNanos;
      everCameUp = true;
    }
    health = h;
  }

  public long inFlight() {
    return inFlight.get();
  }

  /** Call once when a request is sent here; pair with exactly one {@link #requestFinished}. */
  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  /**
   * Call once when a request sent here ends. Failures are connect errors, resets, timeouts and
   * 5xx: they count towards ejection and never lower the latency estimate, so an endpoint that
   * fails fast does not look fast and attract more traffic (the "black hole" effect).
   */
  public void requestFinished(long latencyNanos, boolean failure, long nowNanos) {
    inFlight.decrementAndGet();
    requests.increment();
    double sample = Math.max(0, latencyNanos);
    if (failure) {
      failures.increment();
      sample = Math.max(sample, latency.lastValue());
    }
    latency.observe(sample, nowNanos);
    window.record(nowNanos, Math.max(0, latencyNanos), failure);
    updateErrorRate(failure ? 1 : 0);
    if (failure) {
      onFailure(nowNanos);
    } else {
      onSuccess(nowNanos);
    }
  }

  /** Healthy or not yet checked, active, and not ejected: the only endpoints balancers pick. */
  public boolean isAvailable(long nowNanos) {
    return health != Health.DOWN && adminState == AdminState.ACTIVE && !isEjected(nowNanos);
  }

  /** Whether passive outlier detection has this endpoint ejected at {@code nowNanos}. */
  public boolean isEjected(long nowNanos) {
    return everEjected && nowNanos - ejectedUntilNanos < 0;
  }

  /** Ejections so far; drives the back-off and decays after a long enough healthy period. */
  public int ejections() {
    return ejections.get();
  }

  public int consecutiveFailures() {
    return consecutiveFailures.get();
  }

  /** Latency estimate as of the last finished request, in nanoseconds; 0 before any. */
  public double ewmaLatencyNanos() {
    return latency.lastValue();
  }

  /** Moving share of failed requests over roughly the last 20, in {@code [0, 1]}. */
  public double recentErrorRate() {
    return Double.longBitsToDouble(errorRateBits.get());
  }

  /** p50/p99 latency and error rate over about the last minute, for operators. */
  public LatencyWindow.Figures lastMinute(long nowNanos) {
    return window.figures(nowNanos);
  }

  public long totalRequests() {
    return requests.sum();
  }

  public long totalFailures() {
    return failures.sum();
  }

  PeakEwma latency() {
    return latency;
  }

  void attach(OutlierDetector d) {
    detector = d;
  }

  /**
   * Share of full weight this endpoint should get at {@code nowNanos}: ramps linearly from 10%
   * to 100% over {@code windowNanos} after it came UP or its ejection ended; 1 when off.
   */
  double slowStartFactor(long nowNanos, long windowNanos) {
    if (windowNanos <= 0) {
      return 1;
    }
    boolean ramping = false;
    long since = 0;
    if (everCameUp) {
      ramping = true;
      since = upSinceNanos;
    }
    if (everEjected) {
      long until = ejectedUntilNanos;
      if (!ramping || until - since > 0) {
        ramping = true;
        since = until;
      }
    }
    if (!ramping) {
      return 1;
    }
    long elapsed = nowNanos - since;
    if (elapsed >= windowNanos) {
      return 1;
    }
    return elapsed <= 0 ? 0.1 : 0.1 + 0.9 * ((double) elapsed / windowNanos);
  }

  private void onSuccess(long nowNanos) {
    consecutiveFailures.set(0);
    OutlierDetector d = detector;
    // Forgive past ejections once the endpoint has behaved for as long as the longest back-off.
    if (d != null && everEjected && ejections.get() > 0
        && nowNanos - ejectedUntilNanos >= d.maxBackoffNanos()) {
      ejections.set(0);
    }
  }

  private void onFailure(long nowNanos) {
    int n = consecutiveFailures.incrementAndGet();
    OutlierDetector d = detector;
    if (d == null || n < d.consecutiveFailures() || isEjected(nowNanos)) {
      return;
    }
    if (!d.mayEject(this, nowNanos)) {
      return; // cap reached: stay in, the next failure asks again
    }
    if (!consecutiveFailures.compareAndSet(n, 0)) {
      return; // another event loop's failure came later and ejects instead: eject once, not twice
    }
    int k = ejections.incrementAndGet();
    ejectedUntilNanos = nowNanos + d.backoffNanos(k);
    everEjected = true;
  }

  private void updateErrorRate(double x) {
    while (true) {
      long bits = errorRateBits.get();
      double old = Double.longBitsToDouble(bits);
      double next = old + ERROR_ALPHA * (x - old);
      if (errorRateBits.compareAndSet(bits, Double.doubleToRawLongBits(next))) {
        return;
      }
    }
  }

  @Override
  public String toString() {
    return address + "{" + health + "," + adminState + ",inFlight=" + inFlight.get() + "}";
  }
}
