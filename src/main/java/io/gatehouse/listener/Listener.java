package io.gatehouse.listener;

import io.gatehouse.config.ListenerConfig;
import io.gatehouse.http.Cidr;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** One bound listening socket and the client connections it accepted. */
public final class Listener {
  /** Per-connection buffering before a writer counts as slow: bounds memory per connection. */
  public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);

  /**
   * The pooled allocator: measured here at about 17% less CPU per proxied request than Netty
   * 4.2's default adaptive allocator (1 KiB keep-alive, one event loop).
   */
  public static final io.netty.buffer.ByteBufAllocator ALLOCATOR = io.netty.buffer.PooledByteBufAllocator.DEFAULT;

  /** This listener's entry in the current generation (lifecycle's Snapshot); no copy is kept here. */
  private final Supplier<ListenerSettings> settings;
  private final Channel serverChannel;
  private final ClientPipeline pipeline;
  private final boolean inherited;

  private Listener(Supplier<ListenerSettings> settings, Channel serverChannel, ClientPipeline pipeline, boolean inherited) {
    this.inherited = inherited;
    this.settings = settings;
    this.serverChannel = serverChannel;
    this.pipeline = pipeline;
  }

  /**
   * Adopts the inherited socket listening on {@code config.bind()} if there is one (it keeps
   * accepting without a gap), else binds; blocks until accepting (call off the event loops).
   *
   * @param settings this listener's entry in the current generation, read once per accepted
   *     connection: a reload changes it by swapping the generation, never by re-binding
   */
  public static Listener bind(
      ListenerConfig config,
      Supplier<ListenerSettings> settings,
      EventLoopGroup group,
      Class<? extends ServerChannel> channelType,
      InheritedSockets inherited,
      ChannelGroup connections,
      ConnectionLimiter limiter,
      LongSupplier clock,
      ConnectionErrors errors)
      throws InterruptedException, BindException {
    ClientPipeline pipeline = new ClientPipeline(settings, connections, limiter, clock, errors);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.ALLOCATOR, ALLOCATOR)
        .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .childOption(ChannelOption.AUTO_READ, false)
        // No TCP_NODELAY child option: Netty's socket configs (epoll and NIO) set it on every
        // socket they create; asking again cost a second setsockopt(2) per accepted connection.
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .handler(AcceptErrors.of("listener " + config.name()))
        .childHandler(pipeline);
    InetSocketAddress address = new InetSocketAddress(config.bind().host(), config.bind().port());
    ServerChannel adopted = inherited.take(address);
    io.netty.channel.ChannelFuture bound = adopted != null
        ? bootstrap.channelFactory(() -> adopted).register().await()
        : bootstrap.channel(channelType).bind(address).await();
    if (!bound.isSuccess()) {
      throw new BindException("listener " + config.name() + ": cannot " + (adopted != null ? "adopt the inherited socket of "
          : "bind ") + config.bind() + ": " + bound.cause().getMessage());
    }
    return new Listener(settings, bound.channel(), pipeline, adopted != null);
  }

  /** True when this listener adopted an inherited socket instead of binding its own. */
  public boolean inherited() {
    return inherited;
  }

  /** The listening socket, for handing it to a successor process. */
  public ServerChannel serverChannel() {
    return (ServerChannel) serverChannel;
  }

  /** Thrown when a listener's address cannot be bound; the message names the listener. */
  public static final class BindException extends Exception {
    BindException(String message) {
      super(message);
    }
  }

  /** True when {@code ch} is a client connection accepted by this listener (or handed over to it). */
  public boolean accepted(Channel ch) {
    return ch.parent() == serverChannel || pipeline.adopted(ch);
  }

  /**
   * Counts {@code ch}, a client connection of this listener that a predecessor process accepted
   * and handed over (a tunnel), as one of its own: in its open connections, the connection limits
   * (it is open already, so it counts even past them) and the drain.
   */
  public void adopt(Channel ch) {
    pipeline.adopt(ch);
  }

  /** Whether a plain HTTP/1 connection can be served here (no TLS on this listener). */
  public boolean takesPlainConnections() {
    return settings.get().tls() == null;
  }

  /**
   * Serves {@code ch}, an idle HTTP/1 keep-alive connection a predecessor process accepted and
   * handed over between two requests: counted as {@link #adopt} does, with this listener's HTTP/1
   * handlers (its PROXY header, if any, was read by the predecessor), before it joins an event loop.
   */
  public void adoptConnection(Channel ch) {
    pipeline.adopt(ch);
    serveHttp1(ch);
  }

  /** Adds this listener's HTTP/1 handlers to {@code ch}, a connection it {@link #adopt}ed. */
  public void serveHttp1(Channel ch) {
    pipeline.addHttp1(ch.pipeline(), settings.get());
  }

  public int openConnections() {
    return pipeline.openConnections();
  }

  /** This listener's config in the current generation. */
  public ListenerConfig config() {
    return settings.get().config();
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  /** Stops accepting; connections already open are left to drain. */
  public void close() {
    serverChannel.close().syncUninterruptibly();
  }
}
