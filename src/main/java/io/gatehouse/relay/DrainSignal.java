package io.gatehouse.relay;

/**
 * User event fired into every client pipeline when the proxy stops: idle connections close now,
 * busy ones after their current response (which carries {@code Connection: close}).
 */
public final class DrainSignal {
  public static final DrainSignal INSTANCE = new DrainSignal();
  /**
   * Fired at the drain deadline, just before the connections still open are closed: an exchange
   * cut now ends with outcome {@code drain_deadline}, not {@code client_aborted}.
   */
  public static final DrainSignal DEADLINE = new DrainSignal();

  private DrainSignal() {}
}
