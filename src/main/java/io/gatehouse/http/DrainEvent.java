package io.gatehouse.http;

/**
 * A drain as handlers below the proxy handler see it (the HTTP/2 connection's GOAWAY handler):
 * when the connection's turn to drain comes, and its deadline. {@code relay.DrainSignal} is the
 * event fired; this view keeps {@code listener} free of {@code relay}.
 */
public interface DrainEvent {
  /** When the connection starts to drain (its slot in the drain's spread), from the event; 0 for at once. */
  long slotNanos();

  /** How long the connection may stay open at most; 0 for no deadline. */
  long deadlineNanos();

  /**
   * True for the event fired at the drain deadline, just before the connection is closed: what is
   * still in flight is cut, and each HTTP/2 stream must hear it too to log its exchange as such.
   */
  default boolean atDeadline() {
    return false;
  }
}
