package io.gatehouse.ratelimit;

/**
 * A rate limit as the request path sees it: one decision per request and key. A local limiter
 * ({@link RateLimiter}) always answers at once; one counted in a shared store may answer
 * {@link Verdict.Pending} when it has to ask the store first.
 */
public interface Limiter {
  /** Decides one request of {@code key} at {@code nowNanos}; never blocks. */
  Verdict decide(String key, long nowNanos);
}
