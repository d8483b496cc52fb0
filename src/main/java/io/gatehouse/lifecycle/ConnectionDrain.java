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
 * stopped accepting: every connection gets a {@link DrainSignal} (busy HTTP/1 connections close
 * after their next response, HTTP/2 gets GOAWAY), idle keep-alive connections close one after the
 * other over {@code limits.closeSpread}, starting {@link #IDLE_GRACE} after the drain (active
 * clients close on their next answer meanwhile), so their clients do not all reconnect to the
 * successor at the same moment, and tunnels and WebSockets stay until they end or their listener's drain
 * deadline passes ({@code 0}: no deadline). Blocks the calling thread (never an event loop).
 */
final class ConnectionDrain {
  private static final Logger log = LoggerFactory.getLogger(ConnectionDrain.class);
  private static final long POLL_MILLIS = 20;
  /**
   * How long a drain leaves every idle keep-alive connection open before the spread of their closes
   * begins. A client in a request loop sends its next request within it, gets {@code Connection:
   * close} on the answer and closes by itself; closed sooner, it may have sent that request while
   * the FIN was on its way (the keep-alive race, RFC 9112 §9.3.1), and a client that does not resend
   * (a POST, or a load tool such as wrk: one read error per hand-off with 64 connections) loses it.
   * Only a client silent for the whole grace is closed on, and it is the least likely to be sending.
   */
  static final Duration IDLE_GRACE = Duration.ofSeconds(1);
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
    List<Channel> open = new ArrayList<>(connections);
    long start = clock.getAsLong();
    Map<Channel, Long> deadlines = new HashMap<>();
    int n = open.size();
    log.info("draining {} connections: idle ones close over {} ms after {} ms", n, spread.toMillis(),
        IDLE_GRACE.toMillis());
    for (int i = 0; i < n; i++) {
      signal(open.get(i), IDLE_GRACE.toNanos() + (n <= 1 ? 0 : spread.toNanos() / n * i), deadlineOf, deadlines, start);
    }
    int cut = 0;
    while (!connections.isEmpty()) {
      long now = clock.getAsLong();
      for (Channel ch : connections) {
        if (!deadlines.containsKey(ch)) { // accepted while the listeners were closing
          signal(ch, IDLE_GRACE.toNanos(), deadlineOf, deadlines, now);
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
    if (cut > 0) {
      log.warn("drain deadline reached: closed {} connections still open", cut);
    }
    log.info("drain done after {} ms", Duration.ofNanos(clock.getAsLong() - start).toMillis());
  }

  private static void signal(Channel ch, long slot, Function<Channel, Duration> deadlineOf,
      Map<Channel, Long> deadlines, long now) {
    long deadline = deadlineOf.apply(ch).toNanos();
    if (deadline > 0) {
      slot = Math.min(slot, deadline);
    }
    deadlines.put(ch, deadline > 0 ? now + deadline : NONE);
    ch.pipeline().fireUserEventTriggered(DrainSignal.spread(slot, deadline));
  }
}
