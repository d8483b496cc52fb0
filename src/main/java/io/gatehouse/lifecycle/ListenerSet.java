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
 * time (the change lock of {@link Generations}); read by anyone.
 */
final class ListenerSet {
  private static final Logger log = LoggerFactory.getLogger(ListenerSet.class);

  /** Binds one listener, known by {@code key} in the generation being installed. */
  @FunctionalInterface
  interface Binder {
    Listener bind(ListenerConfig config, ListenerKey key) throws Exception;
  }

  /** A running listener and the key its entries in every generation have. */
  private record Running(Listener listener, ListenerKey key) {}

  private final Map<String, Running> listeners = new ConcurrentHashMap<>();
  private final ChannelGroup connections;

  /** @param connections every client connection of every listener, to drain a removed one's */
  ListenerSet(ChannelGroup connections) {
    this.connections = connections;
  }

  /**
   * What {@code wanted} keeps (same address: same socket, same key) and adds (a fresh key); nothing
   * is bound yet. The keys let the generation be compiled before any socket is bound.
   */
  Plan plan(List<ListenerConfig> wanted) {
    Map<String, Running> kept = new LinkedHashMap<>();
    Map<String, ListenerKey> keys = new LinkedHashMap<>();
    Map<String, Running> remaining = new LinkedHashMap<>(listeners);
    for (ListenerConfig lc : wanted) {
      String same = sameAddress(remaining, lc);
      if (same != null) {
        Running running = remaining.remove(same);
        kept.put(lc.name(), running);
        keys.put(lc.name(), running.key());
      } else {
        keys.put(lc.name(), new ListenerKey(lc.name()));
      }
    }
    return new Plan(List.copyOf(wanted), kept, Map.copyOf(keys), remaining);
  }

  /** A planned change: keys are given; nothing running has changed yet. */
  final class Plan {
    private final List<ListenerConfig> wanted;
    private final Map<String, Running> kept;
    private final Map<String, ListenerKey> keys;
    private final Map<String, Running> removed;

    private Plan(List<ListenerConfig> wanted, Map<String, Running> kept, Map<String, ListenerKey> keys,
        Map<String, Running> removed) {
      this.wanted = wanted;
      this.kept = kept;
      this.keys = keys;
      this.removed = removed;
    }

    /** Every wanted listener's key, by name. */
    Map<String, ListenerKey> keys() {
      return keys;
    }

    /**
     * Binds the listeners the plan adds. If a bind fails, the listeners bound so far are closed
     * and the running set is untouched.
     */
    Change bind(Binder binder) throws Exception {
      Map<String, Running> bound = new LinkedHashMap<>();
      try {
        for (ListenerConfig lc : wanted) {
          if (!kept.containsKey(lc.name())) {
            ListenerKey key = keys.get(lc.name());
            bound.put(lc.name(), new Running(binder.bind(lc, key), key));
          }
        }
      } catch (Exception e) {
        bound.values().forEach(r -> r.listener().close());
        throw e;
      }
      return new Change(wanted, kept, bound, removed);
    }
  }

  /** New listeners are bound; installed by {@link #commit} once their generation is swapped in. */
  final class Change {
    private final List<ListenerConfig> wanted;
    private final Map<String, Running> kept;
    private final Map<String, Running> bound;
    private final Map<String, Running> removed;

    private Change(List<ListenerConfig> wanted, Map<String, Running> kept, Map<String, Running> bound,
        Map<String, Running> removed) {
      this.wanted = wanted;
      this.kept = kept;
      this.bound = bound;
      this.removed = removed;
    }

    /** Installs the new set, then stops and drains the removed listeners. */
    void commit() {
      listeners.clear();
      for (ListenerConfig lc : wanted) {
        listeners.put(lc.name(), kept.containsKey(lc.name()) ? kept.get(lc.name()) : bound.get(lc.name()));
      }
      removed.forEach((name, gone) -> {
        log.info("listener {} removed: no longer accepting, draining its connections", name);
        gone.listener().close();
        for (Channel ch : connections) {
          if (gone.listener().accepted(ch)) {
            ch.pipeline().fireUserEventTriggered(DrainSignal.NOW);
          }
        }
      });
    }
  }

  /** The name of the running listener on the address {@code lc} asks for (port 0 matches by name only). */
  private static String sameAddress(Map<String, Running> running, ListenerConfig lc) {
    for (Map.Entry<String, Running> entry : running.entrySet()) {
      ListenerConfig old = entry.getValue().listener().config();
      int actualPort = entry.getValue().listener().localAddress().getPort();
      boolean samePort = lc.bind().port() == 0
          ? entry.getKey().equals(lc.name())
          : old.bind().host().equals(lc.bind().host()) && (old.bind().port() == lc.bind().port()
              || actualPort == lc.bind().port());
      if (samePort && old.mode() == lc.mode()) {
        return entry.getKey();
      }
    }
    return null;
  }

  InetSocketAddress address(String listener) {
    Running r = listeners.get(listener);
    return r == null ? null : r.listener().localAddress();
  }

  /** Open client connections per listener, for the metrics gauge and the admin API. */
  Map<String, Long> openConnections() {
    Map<String, Long> open = new LinkedHashMap<>();
    listeners.forEach((name, r) -> open.put(name, (long) r.listener().openConnections()));
    return open;
  }

  /** The config of the listener that accepted {@code ch}, or {@code null}. */
  ListenerConfig owner(Channel ch) {
    for (Running r : listeners.values()) {
      if (r.listener().accepted(ch)) {
        return r.listener().config();
      }
    }
    return null;
  }

  /**
   * Counts {@code ch}, a client connection a predecessor process handed over, as one of the
   * listener named {@code name}; with no such listener here, only among all connections.
   */
  void adopt(String name, Channel ch) {
    Running r = listeners.get(name);
    if (r != null) {
      r.listener().adopt(ch);
    } else {
      connections.add(ch);
    }
  }

  /**
   * Why a plain HTTP/1 connection a predecessor accepted on listener {@code name} cannot be served
   * here, or null: no such listener any more, or it now speaks TLS (the connection does not).
   */
  String refusesConnection(String name) {
    Running r = listeners.get(name);
    if (r == null) {
      return "no listener '" + name + "' here";
    }
    return r.listener().takesPlainConnections() ? null : "listener '" + name + "' speaks TLS here";
    // (a response in flight is refused alike: the connection serves that listener after it)
  }

  /** Serves {@code ch}, an idle HTTP/1 connection a predecessor handed over, on listener {@code name}. */
  void adoptConnection(String name, Channel ch) {
    Running r = listeners.get(name);
    if (r == null) {
      throw new IllegalStateException("no listener '" + name + "' here");
    }
    r.listener().adoptConnection(ch);
  }

  /**
   * Counts {@code ch}, a connection a predecessor handed over with a response in flight, as one of
   * listener {@code name}'s; returns what makes it an HTTP/1 connection of that listener after the
   * response.
   */
  Runnable adoptResponse(String name, Channel ch) {
    Running r = listeners.get(name);
    if (r == null) {
      throw new IllegalStateException("no listener '" + name + "' here");
    }
    r.listener().adopt(ch);
    return () -> r.listener().serveHttp1(ch);
  }

  /** The listening sockets, for a hand-off. */
  List<io.netty.channel.ServerChannel> serverChannels() {
    List<io.netty.channel.ServerChannel> channels = new java.util.ArrayList<>();
    listeners.values().forEach(r -> channels.add(r.listener().serverChannel()));
    return channels;
  }

  /** Stops accepting on every listener (stop, close). */
  void closeAll() {
    listeners.values().forEach(r -> r.listener().close());
  }
}
