package io.gatehouse.config;

import java.time.Duration;

/**
 * Token-bucket rate limit. {@code key} is {@code clientIp}, {@code route} or {@code header:NAME}.
 *
 * @param scope {@code local}: each instance counts alone; {@code fleet}: counted in the fleet's
 *     Redis, so the limit holds across every instance
 * @param onStoreDown what a {@code fleet} limit does while Redis cannot be reached
 * @param maxWait how long a request of a {@code fleet} limit may wait for Redis when this instance
 *     has no permit in hand; past it, {@code onStoreDown} decides that request
 */
public record RateLimitConfig(String key, double perSecond, int burst, Scope scope, StoreDown onStoreDown,
    Duration maxWait) {
  static final Duration DEFAULT_MAX_WAIT = Duration.ofMillis(100);

  /** A local limit (the default scope). */
  public RateLimitConfig(String key, double perSecond, int burst) {
    this(key, perSecond, burst, Scope.LOCAL, StoreDown.LOCAL, DEFAULT_MAX_WAIT);
  }

  /** Where requests are counted. */
  public enum Scope { LOCAL, FLEET }

  /**
   * A fleet limit while Redis is down: {@code allow} admits everything, {@code deny} refuses
   * everything (429), {@code local} counts on each instance with the limit divided by the
   * instances alive when Redis went (the fleet's {@code expectedInstances} if none was seen).
   */
  public enum StoreDown { ALLOW, DENY, LOCAL }
}
