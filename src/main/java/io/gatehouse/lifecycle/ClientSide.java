package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.PerClientLimits;
import io.gatehouse.http.ClientAddress;
import io.gatehouse.listener.ConnectionErrors;
import io.gatehouse.listener.ConnectionLimiter;
import io.gatehouse.listener.InheritedSockets;
import io.gatehouse.listener.Listener;
import io.gatehouse.listener.ListenerSettings;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.relay.ExchangeObserver;
import io.gatehouse.relay.ExchangeRecord;
import io.gatehouse.relay.ResponseHandover;
import io.gatehouse.relay.ResumedResponse;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of the process: the running listeners ({@link ListenerSet}), every client
 * connection (to count, drain and close), and where the listening sockets come from and go to:
 * bound here, adopted at start from systemd ({@code LISTEN_FDS}) or from the predecessor a
 * {@code --takeover} replaces, and offered on {@code handoff.socket} to a successor. Listeners are
 * bound and removed under the change lock of {@link Generations}; the hand-off's flags are read from
 * the hand-off connection's loop and the admin thread, hence volatile.
 */
final class ClientSide {
  /** The server's lines keep its logger name. */
  private static final Logger log = LoggerFactory.getLogger(GatehouseServer.class);
  /** How long a takeover waits for the first health round, and for the predecessor's answers. */
  static final Duration HANDOFF_TIMEOUT = Duration.ofSeconds(10);

  private final Transport transport;
  private final EventLoopGroup group;
  private final ProxyMetrics metrics;
  private final LongSupplier clock;
  /** The generation in use: a listener's connections read their settings from its entry. */
  private final Supplier<Snapshot> current;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final ListenerSet listeners = new ListenerSet(connections);
  private final ConnectionLimiter limiter;
  /** Offers the listening sockets to a successor; null without {@code handoff.socket} or epoll. */
  private HandoffServer handoff;
  /** Set once a successor accepts on this process's sockets (on the hand-off connection's loop). */
  private volatile boolean handedOff;
  /** Set once a drain starts (stop or hand-off): {@code /ready} answers 503 from then on. */
  private volatile boolean draining;
  /** The successor's connection for tunnels, once it asked for them (a hand-off's drain moves them). */
  private volatile MoveSender moveSender;
  /** Whether the successor asks for tunnels and connections is known (it says ADOPT, or closes). */
  private final java.util.concurrent.CountDownLatch adoptionKnown = new java.util.concurrent.CountDownLatch(1);
  /** How long a hand-off's drain waits to hear whether the successor takes connections over. */
  private static final Duration ADOPTION_WAIT = Duration.ofSeconds(2);
  /** The instance this one takes over from, during start only. */
  private HandoffClient predecessor;
  /** Sockets listeners adopt instead of binding; only during start. */
  private InheritedSockets inherited = InheritedSockets.NONE;

  /** {@code config}'s {@code limits.maxConnections} and per-client limit hold until the next restart. */
  ClientSide(GatehouseConfig config, Transport transport, EventLoopGroup group, ProxyMetrics metrics,
      Supplier<Snapshot> current, LongSupplier clock) {
    this.transport = transport;
    this.group = group;
    this.metrics = metrics;
    this.current = current;
    this.clock = clock;
    PerClientLimits perClient = config.limits().perClient();
    limiter = new ConnectionLimiter(config.limits().maxConnections(), perClient == null ? 0 : perClient.connections());
  }

  /** Refuses a start that cannot work: a takeover without epoll or a hand-off socket, or a second instance on one. */
  void checkStart(Path handoffPath, boolean takeover) throws Exception {
    if (takeover && !transport.name().equals("epoll")) {
      throw new IllegalStateException("--takeover needs the epoll transport (Linux); this process uses "
          + transport.name());
    }
    if (takeover && handoffPath == null) {
      throw new IllegalStateException("--takeover needs handoff.socket (the embedded default has none; expected: -c FILE)");
    }
    if (!takeover && handoffPath != null && transport.name().equals("epoll")) {
      HandoffSocket.checkIsSocketOrAbsent(handoffPath);
      if (HandoffSocket.answers(handoffPath)) {
        throw new IllegalStateException("handoff.socket " + handoffPath + ": an instance runs there already"
            + " (expected: --takeover to replace it, or another handoff.socket)");
      }
    }
  }

  /**
   * The sockets the start's listeners adopt instead of binding: systemd's, and with
   * {@code predecessor} (a takeover), the running instance's, taken now. Until {@link #accepting} or
   * {@link #takeoverFailed}.
   */
  InheritedSockets inherit(Path predecessorPath) throws Exception {
    InheritedSockets inherited = SystemdSockets.fromEnvironment(transport);
    if (predecessorPath != null) {
      predecessor = HandoffClient.takeOver(predecessorPath, group, HANDOFF_TIMEOUT);
      if (predecessor != null) {
        inherited = InheritedSockets.either(predecessor.sockets(), inherited);
      }
    }
    this.inherited = inherited;
    return inherited;
  }

  /** The start could not bind: the predecessor keeps its sockets and carries on. */
  void takeoverFailed(Exception e) {
    if (predecessor != null) {
      predecessor.fail(e.getMessage());
      predecessor.close();
    }
  }

  /**
   * Every listener accepts: the predecessor, if any, is told to drain, and asked for its tunnels,
   * which this process relays on from then on ({@link #adopt}).
   *
   * @param observer where an adopted tunnel's access-log record goes when it ends
   */
  void accepting(ExchangeObserver observer) throws Exception {
    inherited = InheritedSockets.NONE;
    if (predecessor != null) {
      try {
        predecessor.confirm();
      } catch (Exception e) {
        predecessor.close();
        throw e;
      }
      log.info("--takeover: accepting on the sockets taken over; the old instance drains");
      predecessor.adoptMoved(new HandoffClient.Adoption() {
        @Override
        public String refusal(HandoffSocket.Moving moving) {
          return moving.kind() != null ? listeners.refusesConnection(moving.listenerName()) : null;
        }

        @Override
        public void adopt(HandoffSocket.Moving moving, int[] fds) {
          if (moving.isConnection()) {
            adoptConnection(moving, fds[0]);
          } else if (moving.isResponse()) {
            adoptResponse(moving, fds[0], fds[1], observer);
          } else {
            adoptTunnel(moving, fds[0], fds[1], observer);
          }
        }
      });
    }
    metrics.gaugePerLabel("gatehouse_connections_active", "Open client connections", "listener",
        listeners::openConnections);
  }

  /** What a generation's listeners keep, add and remove; see {@link ListenerSet#plan}. */
  ListenerSet.Plan plan(List<ListenerConfig> wanted) {
    return listeners.plan(wanted);
  }

  /**
   * Binds {@code lc}. Its connections read their settings from the current generation's entry for
   * {@code key}; until {@code generation} (the one that binds it) is swapped in, from that one.
   */
  Listener bind(ListenerConfig lc, ListenerKey key, Snapshot generation) throws Exception {
    CompiledListener own = generation.listeners().get(key);
    Supplier<ListenerSettings> settings = () -> {
      CompiledListener now = current.get().listeners().get(key);
      return (now != null ? now : own).connection();
    };
    Listener listener = Listener.bind(lc, settings, group, transport.serverChannel(), inherited, connections,
        limiter, clock, new ConnectionErrors(lc.name(), metrics, clock));
    log.info("listener {} ({}) on {}{}", lc.name(), lc.mode().name().toLowerCase(), listener.localAddress(),
        listener.inherited() ? " (socket inherited)" : "");
    return listener;
  }

  /**
   * Offers this process's listening sockets, and {@code admin}'s, to a successor on
   * {@code handoff.socket} (epoll only); none once a drain started.
   *
   * @param takenOver called once a successor accepts on them
   */
  void offer(Path path, ServerChannel admin, Runnable takenOver) throws Exception {
    if (path == null) {
      return;
    }
    if (!transport.name().equals("epoll")) {
      log.info("hand-off not offered: it needs the epoll transport (this process uses {})", transport.name());
      return;
    }
    Supplier<List<ServerChannel>> offered = () -> {
      if (draining) {
        return List.of();
      }
      List<ServerChannel> sockets = new ArrayList<>(listeners.serverChannels());
      if (admin != null) {
        sockets.add(admin);
      }
      return sockets;
    };
    handoff = HandoffServer.start(path, group, offered, pid -> {
      handedOff = true;
      takenOver.run();
    }, sender -> {
      moveSender = sender;
      adoptionKnown.countDown();
    });
  }

  /** Whether a successor accepts on this process's sockets. */
  boolean handedOff() {
    return handedOff;
  }

  /** From now on {@code /ready} answers 503 and no successor is offered the sockets. */
  void startDraining() {
    draining = true;
  }

  boolean draining() {
    return draining;
  }

  /** Stops offering the sockets and accepting on them (stop, close). */
  void stopAccepting() {
    if (handoff != null) {
      handoff.close(handedOff);
    }
    listeners.closeAll();
  }

  /**
   * Drains every client connection (see {@link ConnectionDrain}) by its listener's
   * {@code drainTimeout}, else {@code deadline}, else {@code config}'s {@code limits.drainTimeout}.
   */
  void drain(Duration deadline, GatehouseConfig config) {
    ConnectionMoves moves = ConnectionMoves.NONE;
    if (handedOff) {
      // The successor says ADOPT right after DRAINING (an earlier version closes instead): known
      // before the first connection's slot, which then moves instead of closing.
      try {
        adoptionKnown.await(ADOPTION_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      moves = new ConnectionMoves(() -> moveSender);
    }
    new ConnectionDrain(connections, clock).run(ch -> {
      ListenerConfig lc = listeners.owner(ch);
      if (lc != null && lc.drainTimeout() != null) {
        return lc.drainTimeout();
      }
      return deadline != null ? deadline : config.limits().drainTimeout();
    }, config.limits().closeSpread(), moves);
  }

  /**
   * Relays on a tunnel the predecessor moved here: both sockets join an event loop of this process,
   * the client's is counted as a connection of the listener of that name (if this config has it),
   * and its access-log record, carried on from the predecessor's figures, is written when it ends.
   */
  private void adoptTunnel(HandoffSocket.Moving moving, int clientFd, int upstreamFd, ExchangeObserver observer) {
    EventLoop loop = (EventLoop) group.next();
    EpollSocketChannel client = adopted(clientFd);
    EpollSocketChannel upstream = adopted(upstreamFd);
    listeners.adopt(moving.listenerName(), client);
    ExchangeRecord record = moving.record();
    TunnelRelay.Listener ends = TunnelRelay.Listener.recording(observer,
        tunnel -> record.carriedOn(tunnel.bytesUp(), tunnel.bytesDown(), tunnel.durationNanos(), tunnel.outcome()));
    loop.register(client).addListener(c -> loop.register(upstream).addListener(u -> {
      if (!c.isSuccess() || !u.isSuccess()) {
        log.warn("hand-off: a tunnel taken over cannot join an event loop: {}",
            (c.isSuccess() ? u : c).cause().toString());
        client.close();
        upstream.close();
        return;
      }
      TunnelRelay.start(client, upstream, moving.idleNanos(), clock, ends);
      metrics.tunnelTakenOver(moving.listenerName());
    }));
  }

  /**
   * Serves on an idle HTTP/1 keep-alive connection the predecessor moved here: between two requests
   * its socket holds no HTTP state, so the listener of that name builds its HTTP/1 pipeline on it,
   * counts it, and reads its next request (which may wait in the socket already).
   */
  private void adoptConnection(HandoffSocket.Moving moving, int fd) {
    EventLoop loop = (EventLoop) group.next();
    EpollSocketChannel client = adoptedClient(moving, fd);
    listeners.adoptConnection(moving.listenerName(), client);
    loop.register(client).addListener(c -> {
      if (!c.isSuccess()) {
        log.warn("hand-off: a connection taken over cannot join an event loop: {}", c.cause().toString());
        client.close();
        return;
      }
      metrics.connectionTakenOver(moving.listenerName());
    });
  }

  /**
   * Carries on a response a predecessor moved here in flight ({@link ResumedResponse}): the client's
   * socket counts as a connection of its listener and, after the response, becomes one of its HTTP/1
   * connections; the upstream's closes after it.
   */
  private void adoptResponse(HandoffSocket.Moving moving, int clientFd, int upstreamFd, ExchangeObserver observer) {
    ResponseHandover.Frozen frozen = moving.frozen(); // checked when its line was read
    EventLoop loop = (EventLoop) group.next();
    EpollSocketChannel client = adoptedClient(moving, clientFd);
    EpollSocketChannel upstream = adopted(upstreamFd);
    Runnable serveNext = listeners.adoptResponse(moving.listenerName(), client);
    ResumedResponse response = ResumedResponse.prepare(client, upstream, frozen, UpstreamPipeline.MAX_RESPONSE_HEAD_BYTES,
        clock, observer, serveNext);
    loop.register(client).addListener(c -> loop.register(upstream).addListener(u -> {
      if (!c.isSuccess() || !u.isSuccess()) {
        log.warn("hand-off: a response taken over cannot join an event loop: {}", (c.isSuccess() ? u : c).cause().toString());
        client.close();
        upstream.close();
        return;
      }
      response.start();
      metrics.connectionTakenOver(moving.listenerName());
    }));
  }

  /** A client socket handed over, with the client a PROXY header named before, if any. */
  private static EpollSocketChannel adoptedClient(HandoffSocket.Moving moving, int fd) {
    EpollSocketChannel client = adopted(fd);
    try {
      InetSocketAddress source = HandoffSocket.address(moving.proxiedSource());
      if (source != null) {
        ClientAddress.fromProxyHeader(client, source, HandoffSocket.address(moving.proxiedDestination()));
      }
    } catch (java.io.IOException e) {
      // Not closed here: the caller closes the descriptors it holds (a second close could hit a reused number).
      throw new IllegalStateException("its client address: " + e.getMessage(), e);
    }
    return client;
  }

  private static EpollSocketChannel adopted(int fd) {
    EpollSocketChannel ch = new EpollSocketChannel(fd);
    ch.config().setAllocator(Listener.ALLOCATOR);
    ch.config().setAutoRead(false); // the relay starts reading once it is in place
    return ch;
  }

  /** Closes what is left of the client connections, waiting a little for them. */
  void closeConnections() {
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** The address a listener is bound to (its port when the config said port 0). */
  InetSocketAddress address(String listener) {
    return listeners.address(listener);
  }

  /** Open client connections per listener name. */
  Map<String, Long> openConnections() {
    return listeners.openConnections();
  }
}
