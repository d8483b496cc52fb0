package io.gatehouse.relay;

import io.gatehouse.http.Reason;
import io.gatehouse.ratelimit.Verdict;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The outcome of one request phase (a rate limit today; a login check or a name lookup could be
 * the same shape): go on, answer locally, or wait for an answer that comes later without blocking
 * the event loop. {@link ProxyConnectionHandler#decide} runs it; {@link RequestPause} parks a
 * waiting request.
 */
public sealed interface Decision {
  Decision PROCEED = new Proceed();

  /** Go on with the request. */
  record Proceed() implements Decision {}

  /** Answer locally with {@code reason}; {@code decorate} may add headers (null: none). */
  record Reply(Reason reason, String detail, Consumer<FullHttpResponse> decorate) implements Decision {}

  /**
   * Park the request until {@code later} completes (on any thread: the request resumes on its own
   * event loop). Past {@code timeoutNanos}, or if {@code later} fails, {@code fallback} decides;
   * the fallback must not wait again.
   */
  record Wait(CompletionStage<Decision> later, long timeoutNanos, Supplier<Decision> fallback) implements Decision {}

  /**
   * A rate limit's verdict as a phase outcome: over the limit is 429 with {@code Retry-After}
   * in whole seconds, rounded up (RFC 6585 §4, RFC 9110 §10.2.3).
   */
  static Decision of(Verdict verdict) {
    if (verdict instanceof Verdict.Admit) {
      return PROCEED;
    }
    if (verdict instanceof Verdict.Reject reject) {
      long seconds = Math.max(1, (reject.retryNanos() + 999_999_999L) / 1_000_000_000L);
      String detail = reject.detail() != null ? reject.detail() : "rate limit exceeded, retry in " + seconds + " s";
      return new Reply(Reason.RATE_LIMITED, detail, r -> r.headers().set(HttpHeaderNames.RETRY_AFTER, seconds));
    }
    Verdict.Pending pending = (Verdict.Pending) verdict;
    return new Wait(pending.later().thenApply(Decision::of), pending.timeoutNanos(),
        () -> of(pending.fallback().get()));
  }
}
