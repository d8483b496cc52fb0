package io.gatehouse.relay;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Per-exchange limits and choices, fixed when the exchange starts.
 *
 * @param responseTimeoutNanos from request sent to response head received; 0 = none
 * @param addVia add {@code Via} to the response
 * @param responseHeaders adds the proxy's own fields to the final response head for the client
 *     (a cohort cookie), after framing; null for none
 */
public record ExchangeSettings(
    long responseTimeoutNanos, long maxBodyBytes, boolean addVia, LongSupplier clock,
    Consumer<HttpHeaders> responseHeaders) {
  public ExchangeSettings(long responseTimeoutNanos, long maxBodyBytes, boolean addVia, LongSupplier clock) {
    this(responseTimeoutNanos, maxBodyBytes, addVia, clock, null);
  }
}
