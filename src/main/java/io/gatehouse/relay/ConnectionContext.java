package io.gatehouse.relay;

import io.gatehouse.ratelimit.RateLimiter;
import java.util.function.LongSupplier;

/**
 * What every client connection of one listener shares.
 *
 * @param perClient requests-per-second limit per client address, or null
 * @param tunnelIdleNanos idle timeout of upgraded (WebSocket) connections
 * @param requestBufferBytes request body bytes read before an upstream connection is taken
 * @param maxHeaderFields header fields a request may have (431 beyond)
 */
public record ConnectionContext(
    String listenerName,
    boolean tls,
    long maxBodyBytes,
    ExchangeObserver observer,
    LongSupplier clock,
    RateLimiter perClient,
    long tunnelIdleNanos,
    long requestBufferBytes,
    int maxHeaderFields) {}
