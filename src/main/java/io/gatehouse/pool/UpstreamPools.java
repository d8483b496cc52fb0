package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Connection pools to upstream addresses, one per (event loop, address). Connections are opened on
 * the asking loop from a shared bootstrap template (transport, options, upstream pipeline, async DNS).
 * This is the one way upstream: pooled connections, health probes ({@link #connect}) and tunnels
 * ({@link #connectExclusive}) are all opened here.
 */
public final class UpstreamPools {

  private final PoolRegistry<PeerSpec> registry;
  /** Specs no generation uses any more: their pools keep no connection after an exchange. */
  private final Set<PeerSpec> retired = ConcurrentHashMap.newKeySet();
  /**
   * The shared limit of each spec with {@code maxPerEndpoint}, taken by its pools on every loop.
   * Kept for the process's life: one small object per capped cluster endpoint spec ever configured.
   */
  private final ConcurrentHashMap<PeerSpec, EndpointCap> caps = new ConcurrentHashMap<>();
  private final Bootstrap template;
  private final ChannelHandler http2Streams;
  private final LongSupplier clock;
  private final Predicate<HostPort> retain;
  /** The template with IPv4 sockets, for IPv4 peers; null to use the template for all. */
  private final Bootstrap ipv4Template;
  /** Reused bootstraps of exclusive connections ({@link #exclusiveBootstrap}): loops x connect timeouts. */
  private final ConcurrentHashMap<ExclusiveKey, Bootstrap> exclusiveBootstraps = new ConcurrentHashMap<>();

  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock) {
    this(loops, template, clock, address -> true);
  }

  /**
   * @param retain whether connections to an address may go back to the pool after an exchange;
   *     false while the endpoint is draining or disabled
   */
  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock, Predicate<HostPort> retain) {
    this(loops, template, clock, retain, template.config().handler());
  }

  /**
   * As above; {@code http2Streams} is the handler each stream of an HTTP/2 upstream connection is
   * opened with (it builds the stream's pipeline; the template's handler by default).
   */
  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock, Predicate<HostPort> retain,
      ChannelHandler http2Streams) {
    this(loops, template, clock, retain, http2Streams, null);
  }

  /**
   * As above; {@code ipv4Template}, the same bootstrap with IPv4 sockets, connects to IPv4 addresses
   * (null: the template connects to every address). The template's sockets are IPv6 ones, which take
   * an IPv4 peer as a mapped address, after one more system call ({@code IPV6_V6ONLY} off) and through
   * the kernel's IPv6 code: per upstream connection, which a tunnel opens for each client.
   */
  public UpstreamPools(List<EventLoop> loops, Bootstrap template, LongSupplier clock, Predicate<HostPort> retain,
      ChannelHandler http2Streams, Bootstrap ipv4Template) {
    this.ipv4Template = ipv4Template;
    this.http2Streams = http2Streams;
    this.registry = new PoolRegistry<>(loops);
    this.template = template;
    this.clock = clock;
    this.retain = retain;
  }

  /** The pool for {@code address} on {@code loop}, plain HTTP. */
  public ConnectionPool get(
      EventLoop loop, HostPort address, int maxConnections, long maxIdleNanos, long connectTimeoutNanos) {
    return get(loop, address, null, maxConnections, 0, maxIdleNanos, connectTimeoutNanos);
  }

  /**
   * As above, over TLS when {@code tls} is not null, and with a limit on callers waiting for a
   * connection ({@code maxPending}; 0 = the pool's default).
   */
  public ConnectionPool get(
      EventLoop loop, HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos) {
    return http1(loop, new PeerSpec(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos));
  }

  /**
   * The pool of {@code spec} on {@code loop}, created on first use: HTTP/2 streams of shared
   * connections for an HTTP/2 peer, else HTTP/1.1 connections. Call on {@code loop}.
   */
  public UpstreamPool get(EventLoop loop, PeerSpec spec) {
    if (spec.http2()) {
      return registry.pool(loop, spec, key -> new Http2ConnectionPool(loop,
          bootstrap(loop, spec, Http2Upstream.initializer(MAX_RESPONSE_HEAD_BYTES)), remote(spec.address()),
          spec.maxConnections(), spec.maxIdleNanos(), clock, spec.maxPending(),
          () -> !retired.contains(spec) && retain.test(spec.address()), http2Streams,
          spec.pingIntervalNanos(), spec.pingTimeoutNanos()));
    }
    return http1(loop, spec);
  }

  /** HTTP/2 response header lists above this are refused (SETTINGS_MAX_HEADER_LIST_SIZE), as HTTP/1.1 heads are. */
  private static final int MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

  /** The HTTP/1.1 pool of {@code spec} (not an HTTP/2 peer) on {@code loop}, created on first use. Call on {@code loop}. */
  public ConnectionPool http1(EventLoop loop, PeerSpec spec) {
    if (spec.http2()) {
      throw new IllegalArgumentException("HTTP/2 peer " + spec.address() + " has no HTTP/1.1 pool");
    }
    return registry.pool(loop, spec, key -> new ConnectionPool(loop, bootstrap(loop, spec, template.config().handler()),
        remote(spec.address()), spec.maxConnections(), spec.maxIdleNanos(), clock, spec.maxPending(),
        // A PROXY header names one client: such a connection is parked for that client only
        // (BoundConnections), never idle for others, and follows the same drain and retirement.
        () -> !retired.contains(spec) && retain.test(spec.address()),
        spec.maxPerEndpoint() > 0 ? caps.computeIfAbsent(spec, s -> new EndpointCap(s.maxPerEndpoint())) : null));
  }

  /**
   * One connection to {@code spec}'s peer outside any pool, with {@code handler} above TLS (when
   * the spec has it): the path health probes take, so they reach a peer as requests do.
   */
  public ChannelFuture connect(EventLoop loop, PeerSpec spec, ChannelHandler handler) {
    Bootstrap bootstrap = bootstrap(loop, spec, handler);
    if (spec.proxyProtocol() != null) {
      // A probe speaks for no client: v2 LOCAL or v1 UNKNOWN, which origins that require the header accept.
      bootstrap.handler(ProxyHeader.local(spec.proxyProtocol()).before(bootstrap.config().handler()));
    }
    return bootstrap.connect(remote(spec.address()));
  }

  /** Told, on the connecting loop, how an exclusive connection ({@link #connectExclusive}) went. */
  public interface ExclusiveCallback {
    /** {@code peer} answered; the channel has an empty pipeline and autoRead off. */
    void connected(Channel upstream, PeerSpec peer);

    /** Every peer failed; {@code cause} is the last one's ({@link ConnectFailures#reason} classifies it). */
    void failed(Throwable cause);

    /** True once the connection is no longer wanted (the client left): no further peer is tried. */
    default boolean abandoned() {
      return false;
    }
  }

  /**
   * One connection that no pool owns, for a tunnel (CONNECT): to the first of {@code peers} that
   * answers, tried in order. Each is opened exactly like a pooled connection (transport, socket
   * options, resolver, its connect timeout, TLS when its spec has it, the self-connect guard), from a
   * task of its own, with an empty pipeline and autoRead off until the caller installs its relay, so
   * no byte the peer sends first is lost.
   */
  public void connectExclusive(EventLoop loop, List<PeerSpec> peers, ExclusiveCallback callback) {
    attemptExclusive(loop, peers, 0, callback);
  }

  private void attemptExclusive(EventLoop loop, List<PeerSpec> peers, int index, ExclusiveCallback callback) {
    PeerSpec peer = peers.get(index);
    InetSocketAddress remote = remote(peer.address());
    Bootstrap bootstrap = exclusiveBootstrap(loop, peer, remote.getAddress() instanceof java.net.Inet4Address);
    loop.execute(() -> open(bootstrap, remote, new AcquireCallback() {
      @Override
      public void acquired(Channel ch, boolean reused) {
        callback.connected(ch, peer);
      }

      @Override
      public void failed(Throwable cause) {
        if (index + 1 < peers.size() && !callback.abandoned()) {
          attemptExclusive(loop, peers, index + 1, callback);
        } else {
          callback.failed(cause);
        }
      }
    }));
  }

  /**
   * The handler of an exclusive connection's pipeline until the tunnel relay is added behind it once
   * the client was told 200. It handles no event (Netty skips it), so it is never removed; unlike an
   * empty {@code ChannelInitializer} it costs no bookkeeping and no pipeline change per connection.
   */
  @ChannelHandler.Sharable
  private static final class Bare extends ChannelHandlerAdapter {}

  private static final ChannelHandler BARE = new Bare();

  /**
   * The bootstrap of exclusive connections on {@code loop} for {@code spec}: without TLS or a PROXY
   * header (every tunnel's spec) one per (loop, connect timeout) is kept and reused, since a
   * bootstrap only carries settings and cloning the template per tunnel copied its option maps.
   * {@code ipv4}: the spec's address is an IPv4 literal (the caller parsed it already).
   */
  private Bootstrap exclusiveBootstrap(EventLoop loop, PeerSpec spec, boolean ipv4) {
    if (spec.tls() != null || spec.proxyProtocol() != null) {
      return bootstrap(loop, spec, BARE).option(ChannelOption.AUTO_READ, false);
    }
    return exclusiveBootstraps.computeIfAbsent(new ExclusiveKey(loop, spec.connectTimeoutNanos(), ipv4),
        key -> bootstrap(loop, spec, BARE).option(ChannelOption.AUTO_READ, false));
  }

  private record ExclusiveKey(EventLoop loop, long connectTimeoutNanos, boolean ipv4) {}

  /**
   * Connects and reports the outcome; a connection that met itself (nothing listens at {@code
   * remote}, see {@link SelfConnect}) is closed and reported as refused. Every upstream connect,
   * pooled or not, ends here. Call from a task of its own, never inside the I/O event being
   * handled: a socket opened there may get the file descriptor of one closed earlier in the same
   * epoll batch, and an event still pending for that socket is then delivered to the new one.
   */
  static ChannelFuture open(Bootstrap bootstrap, SocketAddress remote, AcquireCallback callback) {
    ChannelFuture future = bootstrap.connect(remote);
    Channel ch = future.channel();
    future.addListener(f -> {
      if (f.isSuccess() && SelfConnect.is(ch)) {
        ch.close();
        callback.failed(SelfConnect.refused(remote));
      } else if (f.isSuccess()) {
        callback.acquired(ch, false);
      } else {
        callback.failed(f.cause());
      }
    });
    return future;
  }

  /** The one way to open a connection upstream: transport, options, resolver, connect timeout, TLS. */
  private Bootstrap bootstrap(EventLoop loop, PeerSpec spec, ChannelHandler handler) {
    Bootstrap bootstrap = (ipv4Template != null && ipv4(spec.address()) ? ipv4Template : template).clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, spec.connectTimeoutNanos() / 1_000_000))
        .handler(handler);
    if (spec.tls() != null) {
      bootstrap.handler(new TlsUpstreamInitializer(spec.tls(), spec.address(), handler));
    }
    return bootstrap;
  }

  /** Whether {@code address} is an IPv4 literal (a host name's family is known only once resolved). */
  private static boolean ipv4(HostPort address) {
    return ipLiteral(address.host()) instanceof java.net.Inet4Address;
  }

  /**
   * An IP literal is connected to as it is; only a host name goes through the bootstrap's resolver
   * (which would answer a literal itself, but through its in-flight table, a promise and a list).
   */
  static InetSocketAddress remote(HostPort address) {
    InetAddress ip = ipLiteral(address.host());
    return ip != null ? new InetSocketAddress(ip, address.port())
        : InetSocketAddress.createUnresolved(address.host(), address.port());
  }

  /**
   * The address an IP literal (IPv6 with or without brackets) names, exactly as Netty's DNS resolver
   * answers it (an IPv4-mapped IPv6 literal is an IPv4 address); null for a host name.
   */
  public static InetAddress ipLiteral(String host) {
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(host);
    if (bytes == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (java.net.UnknownHostException e) {
      return null; // only for a length other than 4 or 16, which the parser never returns
    }
  }

  /**
   * Makes the pools follow a new generation: every pool whose spec {@code live} refuses (no cluster
   * of the generation lists it, no forward listener opens it with these settings) is retired: its
   * idle connections close now and it keeps none after an exchange, so in-flight exchanges finish.
   * Specs in use again are taken back into service. {@code live} is read on the event loops.
   */
  public void follow(Predicate<PeerSpec> live) {
    retired.removeIf(live);
    registry.forEachEntry((spec, pool) -> {
      if (!live.test(spec)) {
        retired.add(spec);
        pool.closeIdle();
      }
    });
  }

  /** Open connections to {@code address} over every loop and spec, for operators; blocks, never on an event loop. */
  public long openConnections(HostPort address) {
    return registry.sumMatching(spec -> spec.address().equals(address), UpstreamPool::openConnections);
  }

  /**
   * The most connections that were open at once to {@code address} under a
   * {@code maxConnectionsPerEndpoint} cap (the largest over its specs); 0 when none caps it. The
   * upstream may briefly count one more: a connection given up for another loop closes on this side
   * before the peer has read its FIN.
   */
  public int peakCappedConnections(HostPort address) {
    return caps.entrySet().stream().filter(e -> e.getKey().address().equals(address))
        .mapToInt(e -> e.getValue().peak()).max().orElse(0);
  }

  /** How many pools (one per event loop and spec) exist for specs {@code keys} accepts; blocks, never on an event loop. */
  public long poolCount(Predicate<PeerSpec> keys) {
    return registry.sumMatching(keys, pool -> 1);
  }

  /** Closes the idle connections to {@code address} on every loop (endpoint drained or removed). */
  public void closeIdle(HostPort address) {
    registry.forEachMatching(key -> key.address().equals(address), UpstreamPool::closeIdle);
  }

  /** A bootstrap for {@code loop} with the upstream transport, options and resolver, for health probes. */
  public Bootstrap bootstrapTemplate() {
    return template.clone();
  }

  /** Closes every idle connection (shutdown). */
  public void closeAllIdle() {
    registry.forEachPool(UpstreamPool::close);
  }
}
