package io.gatehouse.fleet;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this instance can reach the fleet's Redis ("up") or serves on its last known state
 * ("down"), and since when. One log line per change, never one per reconnect attempt; listeners
 * hear every change (on a Redis client thread: they must not block).
 */
public final class FleetStatus {
  private static final Logger log = LoggerFactory.getLogger(FleetStatus.class);

  /** Hears up/down changes. */
  @FunctionalInterface
  public interface Listener {
    void changed(boolean up);
  }

  /** The state and the moment it began. */
  public record State(boolean up, Instant since) {}

  private final String redis;
  private final Clock clock;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  /** Null until the first connect attempt ends one way or the other. */
  private volatile State state;

  FleetStatus(String redis, Clock clock) {
    this.redis = redis;
    this.clock = clock;
  }

  public boolean isUp() {
    State s = state;
    return s != null && s.up();
  }

  /** The current state; down since start while the first connect is still being tried. */
  public State state() {
    State s = state;
    return s != null ? s : new State(false, null);
  }

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  /** Records a change and tells the listeners; the same state again is not a change. */
  void set(boolean up, String why) {
    synchronized (this) {
      State s = state;
      if (s != null && s.up() == up) {
        return;
      }
      state = new State(up, clock.instant());
    }
    if (up) {
      log.info("fleet: Redis {} up: fleet state shared again", redis);
    } else {
      log.warn("fleet: Redis {} down ({}): serving with the last known fleet state, reconnecting", redis, why);
    }
    for (Listener l : listeners) {
      try {
        l.changed(up);
      } catch (RuntimeException e) {
        log.error("fleet: status listener failed", e); // a bug in the listener; others still hear it
      }
    }
  }
}
