package io.gatehouse.relay;

/**
 * User event fired into every client pipeline when the proxy stops: idle connections close now,
 * busy ones after their current response (which carries {@code Connection: close}).
 */
public final class DrainSignal {
  public static final DrainSignal INSTANCE = new DrainSignal();

  private DrainSignal() {}
}
