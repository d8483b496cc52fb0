package io.gatehouse.relay;

import java.util.function.LongSupplier;

/**
 * Per-exchange limits and choices, fixed when the exchange starts.
 *
 * @param responseTimeoutNanos from request sent to response head received; 0 = none
 * @param addVia add {@code Via} to the response
 */
public record ExchangeSettings(
    long responseTimeoutNanos, long maxBodyBytes, boolean addVia, LongSupplier clock) {}
