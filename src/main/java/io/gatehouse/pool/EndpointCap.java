package io.gatehouse.pool;

import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The most connections to one peer over every event loop ({@code pool.maxConnectionsPerEndpoint}),
 * shared by that peer's pools (one per loop). Without it connections grow as loops x endpoints.
 *
 * <p>Lock-free: a pool takes a slot with a compare-and-set before it connects and gives it back
 * when the connection closes. A pool that finds no slot queues its caller (bounded by the connect
 * timeout, then 503) and waits here; the other loops' pools are asked to close an idle connection,
 * and every slot given back wakes one waiting pool on its own loop. Idle connections of one loop
 * can never serve another (a channel belongs to its loop), so at the cap a connection released
 * while another loop waits is closed rather than kept idle.
 */
final class EndpointCap {
  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  /** Pools with callers waiting for a slot; a pool may appear more than once (harmless). */
  private final Queue<ConnectionPool> waiting = new ConcurrentLinkedQueue<>();
  private final Set<ConnectionPool> pools = ConcurrentHashMap.newKeySet();

  EndpointCap(int max) {
    this.max = max;
  }

  int max() {
    return max;
  }

  int open() {
    return open.get();
  }

  /** The most connections that were open at once. */
  int peak() {
    return peak.get();
  }

  void register(ConnectionPool pool) {
    pools.add(pool);
  }

  void unregister(ConnectionPool pool) {
    pools.remove(pool);
    waiting.remove(pool);
  }

  /** Takes a slot for a new connection; false at the cap. */
  boolean tryTake() {
    int now;
    do {
      now = open.get();
      if (now >= max) {
        return false;
      }
    } while (!open.compareAndSet(now, now + 1));
    peak.accumulateAndGet(now + 1, Math::max);
    return true;
  }

  /** A connection closed: its slot goes to a waiting pool, if any. */
  void giveBack() {
    open.decrementAndGet();
    wakeNext();
  }

  /** Whether some pool waits for a slot (then idle connections elsewhere are better closed). */
  boolean contended() {
    return !waiting.isEmpty();
  }

  /**
   * {@code pool} has a caller waiting for a slot: queue it, ask the other pools to give up an idle
   * connection, and wake it at once if a slot came free meanwhile (no lost wake-up).
   */
  void await(ConnectionPool pool) {
    waiting.add(pool);
    for (ConnectionPool other : pools) {
      if (other != pool) {
        other.eventLoop().execute(other::shedIdle);
      }
    }
    if (open.get() < max) {
      wakeNext();
    }
  }

  /** Lets the next waiting pool try for a slot, on its own loop. */
  void wakeNext() {
    ConnectionPool next = waiting.poll();
    if (next != null) {
      next.eventLoop().execute(next::slotFreed);
    }
  }
}
