package io.gatehouse.admin;

/** What the admin API needs from the running proxy; implemented by {@code lifecycle}. */
public interface AdminBackend {
  /** Prometheus text exposition. */
  String metricsText();

  /** True once listeners are bound and the proxy takes traffic. */
  boolean ready();

  /** Re-reads the config file; returns null on success or every problem, one per line. */
  String reload();

  /** Current config generation. */
  long generation();
}
