package io.gatehouse.listener;

import io.netty.channel.ServerChannel;
import java.net.InetSocketAddress;

/**
 * Listening sockets this process did not bind itself: taken over from the process it replaces
 * (hand-off) or passed by systemd (socket activation). A listener whose address matches one adopts
 * it instead of binding, so the socket never stops accepting.
 */
public interface InheritedSockets {
  InheritedSockets NONE = address -> null;

  /**
   * The inherited socket listening on {@code address}, not yet registered with an event loop, or
   * {@code null}. Each socket is handed out once.
   */
  ServerChannel take(InetSocketAddress address);

  /** Takes from {@code first}, then from {@code second}. */
  static InheritedSockets either(InheritedSockets first, InheritedSockets second) {
    return address -> {
      ServerChannel s = first.take(address);
      return s != null ? s : second.take(address);
    };
  }
}
