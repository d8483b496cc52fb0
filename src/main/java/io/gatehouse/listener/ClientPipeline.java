package io.gatehouse.listener;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.OnDemandReader;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.ServerCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Builds each client connection's pipeline:
 * {@code [tls-guard -> tls -> tls-errors] -> client-timeouts -> http-codec -> flow-control -> proxy}.
 * A connection from a balancer trusted to send a PROXY protocol header starts with
 * {@link ProxyProtocolStage} alone, which builds the rest once the header is read.
 * The flow-control handler makes {@code read()} deliver one decoded message at a time, which is what
 * keeps pipelined requests queued until the previous response is done.
 *
 * <p>Added to each accepted connection before it is registered; once it is, this builds the
 * pipeline and leaves it. Not a {@code ChannelInitializer}: that one also keeps a concurrent set of
 * the contexts it is initializing (guarding against a re-entrance this handler cannot see: it is
 * only ever added by the accept path) and removes each from it afterwards, two concurrent-map
 * writes per connection (~1% of the event loop with a connection per request, docs/benchmarks.md).
 */
@ChannelHandler.Sharable
final class ClientPipeline extends ChannelInboundHandlerAdapter {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientPipeline.class);
  /** Shared by every connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return true;
  }

  /**
   * This listener's entry in the current generation: read once per connection, so a reload applies
   * to the connections accepted after its swap, and open ones keep what they were built with.
   */
  private final Supplier<ListenerSettings> settings;
  private final ChannelGroup connections;
  private final ConnectionLimiter limiter;
  private final LongSupplier clock;
  private final ConnectionErrors errors;
  private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

  ClientPipeline(
      Supplier<ListenerSettings> settings, ChannelGroup connections, ConnectionLimiter limiter, LongSupplier clock,
      ConnectionErrors errors) {
    this.settings = settings;
    this.errors = errors;
    this.connections = connections;
    this.limiter = limiter;
    this.clock = clock;
  }

  /** Called once the connection is registered with its event loop (Netty defers it until then). */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.pipeline().remove(this);
    try {
      initChannel(ctx.channel());
    } catch (RuntimeException e) {
      // As ChannelInitializer: a connection that cannot be set up is closed, never half-built.
      log.warn("{} cannot set up the connection: {}", ctx.channel(), e.toString());
      ctx.channel().close();
    }
  }

  private void initChannel(Channel ch) {
    ListenerSettings s = settings.get();
    boolean viaBalancer = s.viaBalancer(ch.remoteAddress());
    // Behind a balancer its address is every client's: the per-client limit waits for the header.
    if (!limiter.tryAdmit(ch, !viaBalancer)) {
      ch.close();
      return;
    }
    connections.add(ch);
    open.incrementAndGet();
    ch.closeFuture().addListener(f -> open.decrementAndGet());
    ChannelPipeline p = ch.pipeline();
    if (viaBalancer) {
      ProxyProtocolStage.install(p, this, s, limiter, errors);
    } else {
      addProtocols(p, s);
    }
  }

  /**
   * {@code [tls-guard -> tls -> tls-errors] -> protocol-switch} or the HTTP/1.1 handlers: everything
   * after a PROXY header, or from the start without one.
   */
  void addProtocols(ChannelPipeline p, ListenerSettings s) {
    if (s.tls() != null) {
      p.addLast(PipelineNames.TLS_GUARD, new TlsPortGuard(this, s));
      p.addLast(PipelineNames.TLS, s.tls().newHandler(p.channel()));
      p.addLast(PipelineNames.TLS_ERRORS, new TlsErrorHandler(errors));
    }
    if (s.tls() != null && s.tls().offersHttp2()) {
      p.addLast(PipelineNames.PROTOCOL_SWITCH, new ProtocolSwitch(this, s));
    } else if (s.tls() == null && s.cleartextHttp2()) {
      p.addLast(PipelineNames.PROTOCOL_SWITCH, new PriorKnowledgeSwitch(this, s));
    } else {
      addHttp1(p, s);
    }
  }

  /** {@code client-timeouts -> http-codec -> flow-control -> proxy}. */
  void addHttp1(ChannelPipeline p, ListenerSettings s) {
    // A client may half-close once its request is sent (RFC 9112 §9.6): the FIN must end its input,
    // not the connection, so the response still goes out (the proxy handler closes after it).
    p.channel().config().setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
    ClientTimeouts timeouts = addTimeouts(p, s.limits());
    p.addLast(PipelineNames.HTTP_CODEC, new ServerCodec(s.limits().maxUriBytes(), s.limits().maxHeaderBytes()));
    p.addLast(PipelineNames.FLOW_CONTROL, new OnDemandReader());
    p.addLast(PipelineNames.PROXY, s.handlers().create(timeouts));
  }

  /** SETTINGS_MAX_CONCURRENT_STREAMS of a client connection. */
  static final int MAX_STREAMS = 256;

  /**
   * {@code h2-drain -> h2-codec -> h2-timeouts -> h2-flush -> h2-streams -> h2-errors}; each stream is
   * a side of the stream table ({@link Http2StreamTable}) read by the same proxy handler as HTTP/1.1,
   * which sees each stream as one request on a connection of its own.
   */
  void addHttp2(ChannelPipeline p, ListenerSettings s) {
    LimitsConfig limits = s.limits();
    ProxyHandlerFactory handlers = s.handlers();
    // HTTP/2 has its own per-stream flow control (windows follow what each stream's proxy handler
    // reads), so the connection itself always reads.
    p.channel().config().setAutoRead(true);
    io.gatehouse.http.StrictHttp2FrameCodec codec = io.gatehouse.http.StrictHttp2FrameCodec.forServer(
        io.netty.handler.codec.http2.Http2Settings.defaultSettings()
            .maxConcurrentStreams(MAX_STREAMS)
            .maxHeaderListSize(limits.maxHeaderBytes()));
    Http2StreamTable streams = new Http2StreamTable(codec.connection(), () -> newTimeouts(limits), handlers);
    p.addLast(PipelineNames.H2_DRAIN, new Http2Drain(codec, streams));
    p.addLast(PipelineNames.H2_CODEC, codec);
    // Every stream's 64 KiB window at once: uploads on several streams do not wait on one another.
    codec.openConnectionWindow(p.context(codec), MAX_STREAMS * io.netty.handler.codec.http2.Http2CodecUtil.DEFAULT_WINDOW_SIZE);
    p.addLast(PipelineNames.H2_TIMEOUTS, new Http2ConnectionTimeouts(codec.connection(), limits.idleTimeout().toNanos()));
    // Responses arrive from the upstream connections' reads, not the client's: each stream's
    // end-of-response flush would cost its own TLS record and write(2) on this connection. Flushes
    // from the streams are held to the end of the event loop's turn, one flush for all the streams
    // answered in it (within a read of this connection the multiplexer already batches them).
    p.addLast(PipelineNames.H2_FLUSH, new io.netty.handler.flush.FlushConsolidationHandler(
        io.netty.handler.flush.FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    p.addLast(PipelineNames.H2_STREAMS, streams);
    p.addLast(PipelineNames.H2_ERRORS, new Http2ErrorHandler(errors));
  }

  /** Connections a predecessor process handed over to this listener, while they are open. */
  private final java.util.Set<Channel> adopted = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** See {@link Listener#adopt}. */
  void adopt(Channel ch) {
    limiter.admitAdopted(ch);
    connections.add(ch);
    adopted.add(ch);
    open.incrementAndGet();
    ch.closeFuture().addListener(f -> {
      open.decrementAndGet();
      adopted.remove(ch);
    });
  }

  boolean adopted(Channel ch) {
    return !adopted.isEmpty() && adopted.contains(ch);
  }

  /** Client connections of this listener open now. */
  int openConnections() {
    return open.get();
  }

  private ClientTimeouts addTimeouts(ChannelPipeline p, LimitsConfig limits) {
    ClientTimeouts timeouts = newTimeouts(limits);
    p.addLast(PipelineNames.CLIENT_TIMEOUTS, new ClientTimeoutHandler(timeouts));
    return timeouts;
  }

  private ClientTimeouts newTimeouts(LimitsConfig limits) {
    return new ClientTimeouts(
        limits.idleTimeout().toNanos(), limits.headerTimeout().toNanos(), limits.minRequestBodyRate(),
        limits.minResponseReadRate(), limits.minRateWindow().toNanos(), clock);
  }

}
