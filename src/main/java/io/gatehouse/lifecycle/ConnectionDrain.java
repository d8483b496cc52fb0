package io.gatehouse.lifecycle;

import io.gatehouse.relay.DrainSignal;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The paced drain of a stopping (or handed-off) process's client connections, once its listeners
 * stopped accepting: every connection gets a {@link DrainSignal} with its slot in
 * {@code limits.closeSpread}, one after the other; from its slot an HTTP/1 connection closes after
 * its next response, or when it stays idle through the signal's grace, and HTTP/2 gets GOAWAY (so
 * clients do not all reconnect at the same moment, and a takeover's successor takes the load over
 * gradually). Tunnels and WebSockets stay until they end or their listener's drain deadline passes
 * ({@code 0}: no deadline), unless a successor takes them over ({@link ConnectionMoves}); a successor
 * that does also takes plain HTTP/1 connections, which then move from their slot, once idle, instead
 * of closing. Blocks the calling thread (never an event loop).
 */
final class ConnectionDrain {
  private static final Logger log = LoggerFactory.getLogger(ConnectionDrain.class);
  private static final long POLL_MILLIS = 20;
  /** A connection without a drain deadline (its listener's drainTimeout is 0). */
  private static final long NONE = Long.MIN_VALUE;

  private final ChannelGroup connections;
  private final LongSupplier clock;

  ConnectionDrain(ChannelGroup connections, LongSupplier clock) {
    this.connections = connections;
    this.clock = clock;
  }

  /**
   * @param deadlineOf the drain deadline of a connection (its listener's), {@link Duration#ZERO} for none
   * @param spread the window over which idle connections are closed
   */
  void run(Function<Channel, Duration> deadlineOf, Duration spread) {
    run(deadlineOf, spread, ConnectionMoves.NONE);
  }

  /** @param tunnels moves tunnels to a successor as the drain goes (a hand-off) */
  void run(Function<Channel, Duration> deadlineOf, Duration spread, ConnectionMoves tunnels) {
    List<Channel> open = new ArrayList<>(connections);
    long start = clock.getAsLong();
    Map<Channel, Long> deadlines = new HashMap<>();
    int n = open.size();
    log.info("draining {} connections, one after the other over {} ms", n, spread.toMillis());
    boolean handsOver = tunnels.takesConnections();
    for (int i = 0; i < n; i++) {
      signal(open.get(i), n <= 1 ? 0 : spread.toNanos() / n * i, deadlineOf, deadlines, start, handsOver);
    }
    int cut = 0;
    while (!connections.isEmpty()) {
      try {
        tunnels.step(connections, clock.getAsLong());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      long now = clock.getAsLong();
      for (Channel ch : connections) {
        if (!deadlines.containsKey(ch)) { // accepted while the listeners were closing
          signal(ch, 0, deadlineOf, deadlines, now, tunnels.takesConnections());
        }
        long deadline = deadlines.get(ch);
        if (deadline != NONE && now - deadline >= 0 && ch.isOpen()) {
          cut++;
          ch.pipeline().fireUserEventTriggered(DrainSignal.DEADLINE); // runs on ch's loop before the close
          ch.close();
        }
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    tunnels.finish();
    if (cut > 0) {
      log.warn("drain deadline reached: closed {} connections still open", cut);
    }
    log.info("drain done after {} ms", Duration.ofNanos(clock.getAsLong() - start).toMillis());
  }

  private static void signal(Channel ch, long slot, Function<Channel, Duration> deadlineOf,
      Map<Channel, Long> deadlines, long now, boolean handsOver) {
    long deadline = deadlineOf.apply(ch).toNanos();
    if (deadline > 0) {
      slot = Math.min(slot, deadline);
    }
    deadlines.put(ch, deadline > 0 ? now + deadline : NONE);
    ch.pipeline().fireUserEventTriggered(DrainSignal.spread(slot, deadline, handsOver));
  }
}
