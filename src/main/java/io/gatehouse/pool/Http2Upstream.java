package io.gatehouse.pool;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection of an {@link Http2ConnectionPool}: whether it is ready for streams (TCP up,
 * and over TLS the peer chose {@code h2} by ALPN), how many it may still open (the peer's
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS} less those in use), whether it is going away, and its
 * idle timer. Its pipeline is {@code [upstream-tls] -> h2 frame codec -> stream multiplexer ->}
 * {@link Handler}. Confined to its pool's event loop.
 */
final class Http2Upstream {
  private static final Logger log = LoggerFactory.getLogger(Http2Upstream.class);
  private static final AttributeKey<Http2Upstream> KEY = AttributeKey.valueOf("gatehouse.http2-upstream");
  /**
   * The connection's receive window: room for every stream's 64 KiB window at once (the RFC's
   * initial 65,535 bytes is shared by all streams, §6.9.2, and would make them wait on one
   * another); each stream's own window still bounds what it buffers.
   */
  static final int CONNECTION_WINDOW = Http2ConnectionPool.STREAMS_BEFORE_SETTINGS * Http2CodecUtil.DEFAULT_WINDOW_SIZE;
  /** Past this stream id the connection takes no new stream (ids end at 2^31, §5.1.1). */
  private static final int LAST_STREAM_ID_TO_OPEN = 1 << 30;

  private final Http2ConnectionPool pool;
  private Channel channel;
  /** The connection's frame codec: its stream ids (null until attached). */
  private Http2FrameCodec codec;
  private boolean ready;
  private boolean goingAway;
  /** The pool has been told this connection ended (closed, or never became ready). */
  private boolean ended;
  private Throwable failure;
  /** Our preface went out: TCP is up (prior knowledge) or TLS agreed on h2. */
  private boolean prefaceSent;
  /** The peer's SETTINGS arrived: it speaks HTTP/2 (its preface, RFC 9113 §3.4). */
  private boolean heardSettings;
  private int inUse;
  private int peerMaxStreams;
  private ScheduledFuture<?> idleTimer;
  /** The keepalive's timer (pool.pingInterval), and the reads counted when its PING went out (or NO_PING). */
  private ScheduledFuture<?> pingTimer;
  private long reads;
  private long lastReadNanos;
  private long readsAtPing = NO_PING;
  private long pingSentNanos;
  private static final long NO_PING = -1;

  Http2Upstream(Http2ConnectionPool pool) {
    this.pool = pool;
    this.peerMaxStreams = pool.peerMaxStreams();
  }

  /** The connection pipeline above TLS, for the bootstrap of an HTTP/2 peer. */
  static ChannelHandler initializer(int maxHeaderListBytes) {
    return new Initializer(maxHeaderListBytes);
  }

  Channel channel() {
    return channel;
  }

  boolean ready() {
    return ready;
  }

  boolean goingAway() {
    return goingAway;
  }

  int inUse() {
    return inUse;
  }

  /** Streams it may open now: 0 unless ready, not going away, and below the peer's limit. */
  int room() {
    return ready && !goingAway && channel.isActive() ? peerMaxStreams - inUse : 0;
  }

  /** The channel being connected; its end (or its failure to start) is reported to the pool. */
  void attach(Channel ch) {
    if (ended) {
      ch.close();
      return;
    }
    channel = ch;
    codec = ch.pipeline().get(Http2FrameCodec.class); // added when the channel registered, inside connect
    ch.attr(KEY).set(this);
    ch.closeFuture().addListener(f -> onClosed());
    if (goingAway) {
      ch.close(); // closed by the pool while it was connecting
    }
  }

  /** The connect failed (or was refused): before or after {@link #attach}. */
  void failed(Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    if (channel == null) {
      onClosed();
    }
  }

  private void onClosed() {
    if (ended) {
      return;
    }
    ended = true;
    cancelIdle();
    if (pingTimer != null) {
      pingTimer.cancel(false);
      pingTimer = null;
    }
    boolean h2Failure = failure instanceof io.netty.handler.codec.http2.Http2Exception;
    if (prefaceSent && !heardSettings && (h2Failure || !goingAway)) {
      // e.g. Netty's "First received frame was not SETTINGS ... 485454502f" ("HTTP/"): said plainly
      pool.warnProtocolFailure(endedWithoutSettings());
    } else if (h2Failure || failure instanceof SSLHandshakeException) {
      pool.warnProtocolFailure(failure); // not a refused or timed-out connect: the access log says those
    }
    if (ready) {
      pool.closed(this);
      return;
    }
    Throwable cause = failure != null ? failure
        : new ConnectException("HTTP/2 connection to " + pool.remote() + " closed before it was ready");
    pool.connectFailed(this, cause);
  }

  /**
   * The peer ended a connection that carried our preface without ever sending the SETTINGS frame an
   * HTTP/2 server opens with (RFC 9113 §3.4). An HTTP/1.1 server answers the preface with a 400 and
   * closes; when frames of ours followed the preface unread, its close is a reset that can arrive
   * before (and discard) that 400, or fail our next write: only the missing SETTINGS says why.
   */
  private Throwable endedWithoutSettings() {
    String how = failure == null ? "connection closed" : failure.getMessage() == null ? failure.toString() : failure.getMessage();
    return new java.io.IOException("ended before the peer's SETTINGS frame (" + how
        + "): the endpoint does not seem to speak HTTP/2 (RFC 9113 §3.4); a cluster with protocol h2 needs an h2 endpoint");
  }

  private void onReady() {
    if (ready || ended) {
      return;
    }
    ready = true;
    lastReadNanos = pool.now();
    if (pool.pingIntervalNanos() > 0) {
      checkAliveIn(pool.pingIntervalNanos());
    }
    pool.serveWaiting();
    if (inUse == 0 && !pool.keepsConnections()) {
      close(); // retired or drained while it connected, and nobody waited for it
    } else if (inUse == 0) {
      idleFor(pool.maxIdleNanos());
    }
  }

  private void onSettings(Http2Settings settings) {
    heardSettings = true;
    Long max = settings.maxConcurrentStreams();
    if (max != null) {
      peerMaxStreams = (int) Math.min(Integer.MAX_VALUE, max);
      pool.peerMaxStreams(peerMaxStreams);
    }
    pool.serveWaiting();
  }

  void streamOpened() {
    inUse++;
    cancelIdle();
  }

  void streamClosed() {
    inUse--;
    if (!goingAway && codec != null && codec.connection().local().lastStreamCreated() > LAST_STREAM_ID_TO_OPEN) {
      goingAway = true; // stream ids run out: the next streams go on a new connection
    }
  }

  /** Takes no new stream; closes once its last stream ends. */
  void goAway() {
    goingAway = true;
    if (inUse == 0) {
      close();
    }
  }

  void close() {
    goingAway = true;
    cancelIdle();
    if (channel != null) {
      channel.close(); // GOAWAY, then the close (Netty's connection handler)
    }
  }

  void idleFor(long nanos) {
    cancelIdle();
    if (nanos > 0 && channel != null) {
      idleTimer = pool.loop().schedule(() -> {
        idleTimer = null;
        if (inUse == 0) {
          close();
        }
      }, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Bytes came in: the peer is alive (counted only for the keepalive). */
  private void onRead() {
    if (pool.pingIntervalNanos() > 0) {
      reads++;
      lastReadNanos = pool.now();
    }
  }

  private void checkAliveIn(long nanos) {
    pingTimer = pool.loop().schedule(this::checkAlive, nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * The keepalive ({@code pool.pingInterval}, as Envoy's {@code connection_keepalive} and gRPC's
   * keepalive): a connection with open streams that has read nothing for the interval is sent a
   * PING; when nothing at all is read within {@code pingTimeout} after it (any frame counts: one
   * stuck behind a large response is not the peer's fault), the connection is taken for dead (a
   * peer gone without a FIN or RST, a middlebox that dropped the flow) and reset: its streams fail
   * now instead of at their response timeout, and new ones go on a new connection. A connection
   * without streams is not pinged (it closes after {@code maxIdleTime}; gRPC servers also count
   * PINGs without calls as abuse).
   */
  private void checkAlive() {
    pingTimer = null;
    if (ended || channel == null || !channel.isActive()) {
      return;
    }
    long now = pool.now();
    if (readsAtPing != NO_PING) {
      if (reads != readsAtPing) {
        readsAtPing = NO_PING; // answered
      } else if (now - pingSentNanos >= pool.pingTimeoutNanos()) {
        unanswered();
        return;
      } else {
        checkAliveIn(pingSentNanos + pool.pingTimeoutNanos() - now);
        return;
      }
    }
    long interval = pool.pingIntervalNanos();
    long quiet = now - lastReadNanos;
    if (inUse > 0 && quiet >= interval) {
      readsAtPing = reads;
      pingSentNanos = now;
      channel.writeAndFlush(new DefaultHttp2PingFrame(now));
      checkAliveIn(pool.pingTimeoutNanos());
    } else {
      checkAliveIn(quiet >= interval ? interval : interval - quiet);
    }
  }

  private void unanswered() {
    failure = new java.io.IOException("no answer within " + TimeUnit.NANOSECONDS.toMillis(pool.pingTimeoutNanos())
        + " ms to a PING (pool.pingTimeout): connection reset, its " + inUse + " open stream(s) failed");
    pool.warnProtocolFailure(failure);
    goingAway = true;
    cancelIdle();
    io.gatehouse.http.AbortiveClose.reset(channel); // a dead peer reads no GOAWAY
  }

  private void cancelIdle() {
    if (idleTimer != null) {
      idleTimer.cancel(false);
      idleTimer = null;
    }
  }

  /** {@code h2 frame codec -> multiplexer -> Handler}, one set per connection. */
  @ChannelHandler.Sharable
  private static final class Initializer extends ChannelInitializer<Channel> {
    private final int maxHeaderListBytes;

    Initializer(int maxHeaderListBytes) {
      this.maxHeaderListBytes = maxHeaderListBytes;
    }

    @Override
    public boolean isSharable() {
      return true;
    }

    @Override
    protected void initChannel(Channel ch) {
      ch.config().setAutoRead(true); // the connection always reads; each stream's window is its backpressure
      ch.pipeline()
          .addLast("h2-codec", new CodecBuilder()
              .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).maxHeaderListSize(maxHeaderListBytes))
              // A stream past the peer's limit waits in the codec for one to close, rather than
              // failing: the pool counts streams against the limit, but before the peer's first
              // SETTINGS it can only assume 100.
              .encoderEnforceMaxConcurrentStreams(true)
              .build())
          .addLast("h2-streams", new Http2MultiplexHandler(NO_PUSH))
          .addLast("h2-upstream", new Handler());
    }
  }

  /**
   * A client connection whose request DATA is shared between streams by a uniform distributor, as
   * on the client side ({@code StrictHttp2FrameCodec}): Netty's default weighted fair queue orders
   * by priority signals nobody sends (RFC 9113 §5.3) and costs bookkeeping on every stream.
   */
  private static final class CodecBuilder extends Http2FrameCodecBuilder {
    CodecBuilder() {
      DefaultHttp2Connection connection = new DefaultHttp2Connection(false);
      connection.remote().flowController(
          new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
      connection(connection); // a client connection: the connection's flag is the builder's server()
      gracefulShutdownTimeoutMillis(0); // as Http2FrameCodecBuilder.forClient()
    }
  }

  /** Server push is off (SETTINGS_ENABLE_PUSH 0): a pushed stream would be a protocol error; closed. */
  private static final ChannelHandler NO_PUSH = new NoPush();

  @ChannelHandler.Sharable
  private static final class NoPush extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.channel().close();
    }
  }

  /** Tells the connection when it is ready, what the peer allows, and when it goes away. */
  private static final class Handler extends ChannelInboundHandlerAdapter {
    private static Http2Upstream of(ChannelHandlerContext ctx) {
      return ctx.channel().attr(KEY).get();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      // The frame codec before this handler has written the preface and SETTINGS (held by TLS
      // until its handshake is done): the connection window goes after them.
      Http2Upstream c = ctx.pipeline().get(SslHandler.class) == null ? of(ctx) : null;
      if (c != null) {
        c.prefaceSent = true; // by the codec, on the same event: a peer may end the connection from the next write on
      }
      ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
      if (c != null) {
        c.onReady(); // prior knowledge (RFC 9113 §3.3): streams may follow the preface at once
      }
      ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        Http2Upstream c = of(ctx);
        if (c == null) {
          return;
        }
        if (!done.isSuccess()) {
          c.failure = done.cause();
          return; // the SslHandler closes the connection
        }
        String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
        if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
          c.failure = new SSLHandshakeException("upstream " + c.pool.remote() + " did not choose HTTP/2 over ALPN ("
              + (protocol == null ? "no protocol" : "chose " + protocol) + "); a cluster with protocol h2 needs an h2 endpoint");
          ctx.close();
          return;
        }
        c.prefaceSent = true; // the codec's preface, held by TLS, goes out with the handshake's end
        c.onReady();
        return;
      }
      ReferenceCountUtil.release(evt);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Http2Upstream c = of(ctx);
      if (c != null) {
        c.onRead(); // once per read from the socket, whatever the frames (the multiplexer passes it on)
      }
      ctx.fireChannelReadComplete();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        Http2Upstream c = of(ctx);
        if (c == null) {
          return;
        }
        if (msg instanceof Http2SettingsFrame settings) {
          c.onSettings(settings.settings());
        } else if (msg instanceof Http2GoAwayFrame) {
          c.goAway(); // the streams above its last id were refused to their exchanges (multiplexer)
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Http2Upstream c = of(ctx);
      if (c != null && c.failure == null) {
        c.failure = cause;
      }
      log.debug("HTTP/2 upstream connection {} failed: {}", ctx.channel(), cause.toString());
      ctx.close();
    }
  }
}
