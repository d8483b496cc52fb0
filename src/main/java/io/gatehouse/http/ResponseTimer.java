package io.gatehouse.http;

/**
 * One deadline the proxy sets for an exchange, at most one at a time (arming again replaces it):
 * the wait for an upstream's response head. {@link ClientTimeoutHandler} times it with the same
 * task as the client's timeouts, so an idle connection holds one task in its event loop's queue.
 * Arming and disarming only write fields. Event-loop confined.
 */
public interface ResponseTimer {
  /** Runs {@code onExpiry} on the event loop after {@code timeoutNanos}, unless disarmed or re-armed first. */
  void arm(long timeoutNanos, Runnable onExpiry);

  void disarm();
}
