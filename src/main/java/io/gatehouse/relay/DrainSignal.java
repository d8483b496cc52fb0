package io.gatehouse.relay;

/**
 * User event fired into every client pipeline when the proxy stops or hands its sockets to a
 * successor: the connection says {@code Connection: close} on its next response and closes after
 * it (HTTP/2 gets GOAWAY); an idle one closes after {@link #idleCloseDelayNanos}, so a drain spreads
 * the closes of idle keep-alive connections over a window instead of making every client reconnect
 * at the same moment (HAProxy's {@code close-spread-time} does the same).
 */
public final class DrainSignal implements io.gatehouse.http.DrainEvent {
  /**
   * Fired at the drain deadline, just before the connections still open are closed: an exchange
   * cut now ends with outcome {@code drain_deadline}, not {@code client_aborted}.
   */
  public static final DrainSignal DEADLINE = new DrainSignal(0, 0, true);

  private final long idleCloseDelayNanos;
  private final long deadlineNanos;
  private final boolean atDeadline;

  private DrainSignal(long idleCloseDelayNanos, long deadlineNanos, boolean atDeadline) {
    this.idleCloseDelayNanos = idleCloseDelayNanos;
    this.deadlineNanos = deadlineNanos;
    this.atDeadline = atDeadline;
  }

  /**
   * @param idleCloseDelayNanos when an idle connection closes, from now
   * @param deadlineNanos how long the connection may stay open at most (0: no deadline); the
   *     server enforces it, handlers that close on their own (HTTP/2) use it as their bound
   */
  public static DrainSignal spread(long idleCloseDelayNanos, long deadlineNanos) {
    return new DrainSignal(Math.max(0, idleCloseDelayNanos), Math.max(0, deadlineNanos), false);
  }

  @Override
  public long idleCloseDelayNanos() {
    return idleCloseDelayNanos;
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
