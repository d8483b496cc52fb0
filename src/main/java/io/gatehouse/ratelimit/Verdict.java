package io.gatehouse.ratelimit;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** A rate limit's answer for one request. */
public sealed interface Verdict {
  /** Within the limit; shared, it carries nothing. */
  Verdict ADMIT = new Admit();

  /** Within the limit. */
  record Admit() implements Verdict {}

  /**
   * Over the limit (or refused because the limit cannot be counted now).
   *
   * @param retryNanos when a retry could be admitted (for {@code Retry-After}), at least 1
   * @param detail what the local reply says
   */
  record Reject(long retryNanos, String detail) implements Verdict {}

  /**
   * Not known yet: the store was asked and {@code later} completes with the answer (on a thread of
   * the store's client). If it does not within {@code timeoutNanos}, or fails, {@code fallback}
   * answers instead; the fallback never returns {@code Pending}.
   */
  record Pending(CompletionStage<Verdict> later, long timeoutNanos, Supplier<Verdict> fallback) implements Verdict {}
}
