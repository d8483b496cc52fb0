package io.gatehouse.lifecycle;

import io.gatehouse.config.ListenerConfig;
import io.gatehouse.listener.Listener;
import io.gatehouse.relay.DrainSignal;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running listeners, and what a new generation does to them: a listener whose address stays
 * is kept (same socket, no refused connection), a new one is bound before anything changes, and
 * one no longer configured stops accepting and drains its connections. Changed by one thread at a
 * time (the server's change lock); read by anyone.
 */
final class ListenerSet {
  private static final Logger log = LoggerFactory.getLogger(ListenerSet.class);

  /** Binds one listener for the generation being installed. */
  @FunctionalInterface
  interface Binder {
    Listener bind(ListenerConfig config) throws Exception;
  }

  /** Gives a kept listener the settings of the generation being installed (for new connections). */
  @FunctionalInterface
  interface Updater {
    void update(Listener kept, ListenerConfig config);
  }

  private final Map<String, Listener> listeners = new ConcurrentHashMap<>();
  private final ChannelGroup connections;

  /** @param connections every client connection of every listener, to drain a removed one's */
  ListenerSet(ChannelGroup connections) {
    this.connections = connections;
  }

  /** A planned change: new listeners are bound; nothing running has changed yet. */
  final class Change {
    private final List<ListenerConfig> wanted;
    private final Map<String, Listener> kept;
    private final Map<String, Listener> bound;
    private final Map<String, Listener> removed;

    private Change(List<ListenerConfig> wanted, Map<String, Listener> kept, Map<String, Listener> bound,
        Map<String, Listener> removed) {
      this.wanted = wanted;
      this.kept = kept;
      this.bound = bound;
      this.removed = removed;
    }

    /** Updates kept listeners; call before the generation swap so new connections see the new settings. */
    void updateKept(Updater updater) {
      for (ListenerConfig lc : wanted) {
        Listener listener = kept.get(lc.name());
        if (listener != null) {
          updater.update(listener, lc);
        }
      }
    }

    /** Installs the new set, then stops and drains the removed listeners. */
    void commit() {
      listeners.clear();
      for (ListenerConfig lc : wanted) {
        listeners.put(lc.name(), kept.containsKey(lc.name()) ? kept.get(lc.name()) : bound.get(lc.name()));
      }
      for (Listener gone : removed.values()) {
        log.info("listener {} removed: no longer accepting, draining its connections", gone.config().name());
        gone.close();
        for (Channel ch : connections) {
          if (gone.accepted(ch)) {
            ch.pipeline().fireUserEventTriggered(DrainSignal.INSTANCE);
          }
        }
      }
    }
  }

  /**
   * Binds what {@code wanted} adds and matches what it keeps. If a bind fails, the listeners bound
   * so far are closed and the running set is untouched.
   */
  Change prepare(List<ListenerConfig> wanted, Binder binder) throws Exception {
    Map<String, Listener> kept = new LinkedHashMap<>();
    Map<String, Listener> bound = new LinkedHashMap<>();
    Map<String, Listener> remaining = new LinkedHashMap<>(listeners);
    try {
      for (ListenerConfig lc : wanted) {
        Listener same = sameAddress(remaining, lc);
        if (same != null) {
          remaining.values().remove(same);
          kept.put(lc.name(), same);
        } else {
          bound.put(lc.name(), binder.bind(lc));
        }
      }
    } catch (Exception e) {
      bound.values().forEach(Listener::close);
      throw e;
    }
    return new Change(List.copyOf(wanted), kept, bound, remaining);
  }

  /** The running listener on the address {@code lc} asks for (port 0 matches by name only). */
  private static Listener sameAddress(Map<String, Listener> running, ListenerConfig lc) {
    for (Map.Entry<String, Listener> entry : running.entrySet()) {
      ListenerConfig old = entry.getValue().config();
      int actualPort = entry.getValue().localAddress().getPort();
      boolean samePort = lc.bind().port() == 0
          ? entry.getKey().equals(lc.name())
          : old.bind().host().equals(lc.bind().host()) && (old.bind().port() == lc.bind().port()
              || actualPort == lc.bind().port());
      if (samePort && old.mode() == lc.mode()) {
        return entry.getValue();
      }
    }
    return null;
  }

  InetSocketAddress address(String listener) {
    Listener l = listeners.get(listener);
    return l == null ? null : l.localAddress();
  }

  /** Open client connections per listener, for the metrics gauge and the admin API. */
  Map<String, Long> openConnections() {
    Map<String, Long> open = new LinkedHashMap<>();
    listeners.forEach((name, l) -> open.put(name, (long) l.openConnections()));
    return open;
  }

  /** The config of the listener that accepted {@code ch}, or {@code null}. */
  ListenerConfig owner(Channel ch) {
    for (Listener l : listeners.values()) {
      if (l.accepted(ch)) {
        return l.config();
      }
    }
    return null;
  }

  /** The listening sockets, for a hand-off. */
  List<io.netty.channel.ServerChannel> serverChannels() {
    List<io.netty.channel.ServerChannel> channels = new java.util.ArrayList<>();
    listeners.values().forEach(l -> channels.add(l.serverChannel()));
    return channels;
  }

  /** Stops accepting on every listener (stop, close). */
  void closeAll() {
    listeners.values().forEach(Listener::close);
  }
}
