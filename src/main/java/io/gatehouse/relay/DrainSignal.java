package io.gatehouse.relay;

/**
 * User event fired into every client pipeline when the proxy stops, hands its sockets to a
 * successor, or a reload removes its listener. Each connection has a slot ({@link #slotNanos}) in
 * the drain's spread: from then on it says {@code Connection: close} on its next response and
 * closes after it (HTTP/2 gets GOAWAY), and closes if it stays idle through
 * {@link #IDLE_GRACE_NANOS}. So a drain moves its clients over a window instead of all at the
 * same moment (HAProxy's {@code close-spread-time} does so for idle ones): no reconnect storm, and
 * after a takeover the successor's load grows over the window while its code warms up. At a
 * hand-off to a successor that takes connections over ({@link #handsOver}), a plain HTTP/1
 * connection does not close at all: from its slot it moves to the successor once idle.
 */
public final class DrainSignal implements io.gatehouse.http.DrainEvent {
  /**
   * Fired at the drain deadline, just before the connections still open are closed: an exchange
   * cut now ends with outcome {@code drain_deadline}, not {@code client_aborted}.
   */
  public static final DrainSignal DEADLINE = new DrainSignal(0, 0, true, false);
  /** Drain from now, without a deadline (a listener a reload removed). */
  public static final DrainSignal NOW = new DrainSignal(0, 0, false, false);
  /**
   * How long a connection whose slot came stays open while idle: a client in a request loop sends
   * its next request within it and gets {@code Connection: close} on the answer; closed sooner, that
   * request may meet the FIN (the keep-alive race, RFC 9112 §9.3.1), and a client that does not
   * resend it (a POST; wrk) loses it. Only a client silent for the whole grace is closed on.
   */
  public static final long IDLE_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  private final long slotNanos;
  private final long deadlineNanos;
  private final boolean atDeadline;
  private final boolean handsOver;

  private DrainSignal(long slotNanos, long deadlineNanos, boolean atDeadline, boolean handsOver) {
    this.slotNanos = slotNanos;
    this.deadlineNanos = deadlineNanos;
    this.atDeadline = atDeadline;
    this.handsOver = handsOver;
  }

  /**
   * @param slotNanos when the connection starts to drain, from now
   * @param deadlineNanos how long the connection may stay open at most (0: no deadline); the
   *     server enforces it, handlers that close on their own (HTTP/2) use it as their bound
   */
  public static DrainSignal spread(long slotNanos, long deadlineNanos) {
    return spread(slotNanos, deadlineNanos, false);
  }

  /**
   * @param handsOver a successor process takes connections over (a hand-off whose successor said
   *     {@code ADOPT}): from its slot, a plain HTTP/1 connection keeps alive and moves to it once idle,
   *     instead of closing
   */
  public static DrainSignal spread(long slotNanos, long deadlineNanos, boolean handsOver) {
    return new DrainSignal(Math.max(0, slotNanos), Math.max(0, deadlineNanos), false, handsOver);
  }

  /** Whether a plain HTTP/1 connection moves to a successor instead of closing. */
  public boolean handsOver() {
    return handsOver;
  }

  @Override
  public long slotNanos() {
    return slotNanos;
  }

  @Override
  public long deadlineNanos() {
    return deadlineNanos;
  }

  @Override
  public boolean atDeadline() {
    return atDeadline;
  }
}
