package io.gatehouse.zerodowntime;

import java.util.List;

/**
 * A proxy as the scenarios drive it: a real process (or a family of them) on one loopback port,
 * sending {@code /} to the given origins, changed by each product's own mechanism.
 */
interface ProxyDriver extends AutoCloseable {

  /** The product as the table names it. */
  String name();

  /** Starts the proxy towards {@code origins}; returns once it answers on {@link #port()}. */
  void start(List<Origin> origins) throws Exception;

  int port();

  /** Rewrites the config for {@code origins} and reloads it the product's way; {@code n} counts reloads. */
  void reload(List<Origin> origins, int n) throws Exception;

  /** How {@link #reload} is done, for the table. */
  String reloadHow();

  /** The graceful stop signal; returns at once. */
  void gracefulStop() throws Exception;

  String gracefulStopHow();

  /** The setting that bounds how long a stopping (or replaced) process keeps its connections. */
  String drainBoundHow();

  /** Waits until every process of the proxy has exited; false when they have not after the wait. */
  boolean awaitExit(double seconds) throws Exception;

  /**
   * A new process takes the listening sockets over from the running one, which then drains and
   * exits. Returns {@code null} when done, or why it is not available.
   */
  String handOff(List<Origin> origins) throws Exception;

  String handOffHow();

  /** Why {@link #handOff} cannot work in this installation, or {@code null}; asked before a run. */
  String handOffMissing() throws Exception;

  /** Told which scenario is coming, before {@link #start}: a driver may need another setup for it. */
  default void prepare(Scenario scenario) {}

  /** Why {@link #switchByApi} and {@link #drainByApi} cannot run here, or {@code null}; asked before a run. */
  String runtimeApiMissing();

  /**
   * Moves all traffic from {@code from} to {@code to} through a runtime API, without a reload.
   * Returns {@code null} when done, or why it is not available.
   */
  default String switchByApi(Origin from, Origin to) throws Exception {
    return "not available: no runtime API for weights";
  }

  /**
   * Drains {@code origin} through a runtime API and returns once its in-flight exchanges have
   * ended ({@code null}), or why it is not available.
   */
  default String drainByApi(Origin origin) throws Exception {
    return "not available: no runtime drain API";
  }

  /** Kills whatever is left, at once. */
  @Override
  void close();
}
