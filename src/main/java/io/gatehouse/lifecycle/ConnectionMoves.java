package io.gatehouse.lifecycle;

import io.gatehouse.relay.ConnectionHandover;
import io.gatehouse.relay.ResponseMove;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * During a hand-off's drain, moves the tunnels and idle HTTP/1 keep-alive connections among the
 * client connections to the successor ({@link MoveSender}), at each step of the drain: a tunnel
 * set up while the drain runs moves too, one whose bytes were not out in time is tried again a
 * little later, and one that cannot move (TLS, an HTTP/2 stream, a refusal) relays on here. An
 * HTTP/1 connection moves once it took itself off its event loop between two requests ({@link
 * ConnectionHandover}); when the successor cannot take connections (it went away, or an earlier
 * version refuses them), every one still waiting to move drains here instead. Confined to the
 * drain's thread.
 */
final class ConnectionMoves {
  private static final Logger log = LoggerFactory.getLogger(ConnectionMoves.class);
  /** Nothing to move (a stop, or a successor that does not take tunnels). */
  static final ConnectionMoves NONE = new ConnectionMoves(() -> null);
  private static final long RETRY_NANOS = Duration.ofMillis(250).toNanos();

  private final Supplier<MoveSender> sender;
  private final Map<Channel, Long> retryAt = new HashMap<>();
  private final Set<Channel> staying = new HashSet<>();
  /** HTTP/1 connections whose response in flight the successor refused: it ends here. */
  private final Set<Channel> responsesStaying = new HashSet<>();
  /** HTTP/1 connections that were to move and drain here instead. */
  private final Set<Channel> connectionsStaying = new HashSet<>();

  /** @param sender the successor's tunnel connection once it asked for tunnels, else null */
  ConnectionMoves(Supplier<MoveSender> sender) {
    this.sender = sender;
  }

  /** Whether plain HTTP/1 connections move to the successor (from their slot, once idle) instead of closing. */
  boolean takesConnections() {
    MoveSender to = sender.get();
    return to != null && to.usable() && to.takesConnections();
  }

  /** Tries to move every tunnel of {@code connections} that is due, and every connection ready to move. */
  void step(Iterable<Channel> connections, long now) throws InterruptedException {
    MoveSender to = sender.get();
    if (to == null) {
      return;
    }
    if (!to.usable()) {
      stayAll(connections); // the successor went away: connections waiting to move drain here
      return;
    }
    for (Channel ch : connections) {
      Long at = retryAt.get(ch);
      if (staying.contains(ch) || (at != null && now - at < 0) || !ch.isActive()) {
        continue;
      }
      TunnelRelay tunnel = TunnelRelay.of(ch);
      if (tunnel == null) {
        moveConnection(to, ch, now);
      } else if (!tunnel.canMove()) {
        staying.add(ch);
      } else {
        switch (to.move(tunnel)) {
          case MOVED -> retryAt.remove(ch);
          case NOT_NOW -> retryAt.put(ch, now + RETRY_NANOS);
          case STAYS -> staying.add(ch);
        }
      }
      if (!to.usable()) {
        return;
      }
    }
  }

  /**
   * Moves {@code ch} if it is an HTTP/1 connection ready to move; one the successor does not take
   * drains here from now on.
   */
  private void moveConnection(MoveSender to, Channel ch, long now) throws InterruptedException {
    ConnectionHandover connection = ConnectionHandover.readyToMove(ch);
    if (connection == null) {
      moveResponse(to, ch, now);
      return;
    }
    if (!to.takesConnections()) {
      connection.stayHere(); // signalled before the successor turned out to take none
      connectionsStaying.add(ch);
    } else if (to.move(connection) != MoveSender.Result.MOVED) {
      connectionsStaying.add(ch); // it drains here now
    }
  }

  /**
   * Moves the response in flight on {@code ch} with its connection, if it has been handed over for
   * a while ({@link ResponseMove#due}); one that cannot be frozen now is tried again later, one
   * the successor refuses ends here (its connection moves once idle, or drains).
   */
  private void moveResponse(MoveSender to, Channel ch, long now) throws InterruptedException {
    if (!to.takesConnections() || responsesStaying.contains(ch)) {
      return;
    }
    ResponseMove response = ResponseMove.due(ch, System.nanoTime());
    if (response == null) {
      return;
    }
    switch (to.move(response)) {
      case MOVED -> retryAt.remove(ch);
      case NOT_NOW -> retryAt.put(ch, now + RETRY_NANOS);
      case STAYS -> responsesStaying.add(ch);
    }
  }

  private void stayAll(Iterable<Channel> connections) {
    for (Channel ch : connections) {
      ConnectionHandover connection = ConnectionHandover.readyToMove(ch);
      if (connection != null) {
        connection.stayHere();
        connectionsStaying.add(ch);
      }
    }
  }

  /** The drain is over: the successor hears that nothing more comes. */
  void finish() {
    MoveSender to = sender.get();
    if (to != null) {
      if (to.moved() > 0 || !staying.isEmpty()) {
        log.info("hand-off: {} tunnels moved to the successor; {} stayed here to their end (TLS or an HTTP/2"
            + " stream in this process, or refused)", to.moved(), staying.size());
      }
      if (to.movedConnections() > 0 || !connectionsStaying.isEmpty()) {
        log.info("hand-off: {} keep-alive connections moved to the successor ({} of them with a response in flight,"
            + " carrying {} bytes their clients had not taken yet); {} closed here as they drained (refused, or the"
            + " successor went away)", to.movedConnections(), to.movedResponses(), to.carriedBytes(),
            connectionsStaying.size());
      }
      to.finish();
    }
  }
}
