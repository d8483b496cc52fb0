package io.gatehouse.lifecycle;

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
 * During a hand-off's drain, moves the tunnels among the client connections to the successor
 * ({@link TunnelSender}), at each step of the drain: a tunnel set up while the drain runs moves
 * too, one whose bytes were not out in time is tried again a little later, and one that cannot
 * move (TLS, an HTTP/2 stream, a refusal) relays on here. Confined to the drain's thread.
 */
final class TunnelMoves {
  private static final Logger log = LoggerFactory.getLogger(TunnelMoves.class);
  /** Nothing to move (a stop, or a successor that does not take tunnels). */
  static final TunnelMoves NONE = new TunnelMoves(() -> null);
  private static final long RETRY_NANOS = Duration.ofMillis(250).toNanos();

  private final Supplier<TunnelSender> sender;
  private final Map<Channel, Long> retryAt = new HashMap<>();
  private final Set<Channel> staying = new HashSet<>();

  /** @param sender the successor's tunnel connection once it asked for tunnels, else null */
  TunnelMoves(Supplier<TunnelSender> sender) {
    this.sender = sender;
  }

  /** Tries to move every tunnel of {@code connections} that is due. */
  void step(Iterable<Channel> connections, long now) throws InterruptedException {
    TunnelSender to = sender.get();
    if (to == null || !to.usable()) {
      return;
    }
    for (Channel ch : connections) {
      Long at = retryAt.get(ch);
      if (staying.contains(ch) || (at != null && now - at < 0) || !ch.isActive()) {
        continue;
      }
      TunnelRelay tunnel = TunnelRelay.of(ch);
      if (tunnel == null) {
        continue;
      }
      if (!tunnel.canMove()) {
        staying.add(ch);
        continue;
      }
      switch (to.move(tunnel)) {
        case MOVED -> retryAt.remove(ch);
        case NOT_NOW -> retryAt.put(ch, now + RETRY_NANOS);
        case STAYS -> staying.add(ch);
      }
      if (!to.usable()) {
        return;
      }
    }
  }

  /** The drain is over: the successor hears that nothing more comes. */
  void finish() {
    TunnelSender to = sender.get();
    if (to != null) {
      if (to.moved() > 0 || !staying.isEmpty()) {
        log.info("hand-off: {} tunnels moved to the successor; {} stayed here to their end (TLS or an HTTP/2"
            + " stream in this process, or refused)", to.moved(), staying.size());
      }
      to.finish();
    }
  }
}
