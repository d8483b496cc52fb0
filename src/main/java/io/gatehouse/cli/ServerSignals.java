package io.gatehouse.cli;

import io.gatehouse.lifecycle.GatehouseServer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The signals that act on a running server (SIGHUP, SIGUSR1), installed before it starts.
 *
 * <p>Left to the JVM until the server is up, a SIGHUP would kill the process (its default action,
 * exit 129): one sent as soon as the port accepts, by a script that reloads right after a start,
 * came between the listeners opening and the handlers' installation. Installed first, a signal that
 * comes while the server starts waits, and acts once the server is up (nginx blocks its signals over
 * its start the same way): the reload then re-reads a file that may have changed since the start
 * read it.
 */
final class ServerSignals {
  private final List<Consumer<GatehouseServer>> waiting = new ArrayList<>();
  private GatehouseServer server;

  /**
   * Installs {@code action} for signal {@code name}; false when the signal was ignored when the JVM
   * started (inherited from the parent: {@code nohup} ignores HUP): the JVM then keeps it ignored
   * and installs nothing, silently.
   */
  boolean handle(String name, Consumer<GatehouseServer> action) {
    SignalHandler handler = sig -> act(action);
    return Signal.handle(new Signal(name), handler) != SignalHandler.SIG_IGN;
  }

  /** The server is up: the signals that came while it started act now, in their order. */
  void started(GatehouseServer started) {
    List<Consumer<GatehouseServer>> due;
    synchronized (this) {
      server = started;
      due = List.copyOf(waiting);
      waiting.clear();
    }
    due.forEach(action -> action.accept(started));
  }

  private void act(Consumer<GatehouseServer> action) {
    GatehouseServer running;
    synchronized (this) {
      running = server;
      if (running == null) {
        waiting.add(action);
        return;
      }
    }
    action.accept(running);
  }
}
