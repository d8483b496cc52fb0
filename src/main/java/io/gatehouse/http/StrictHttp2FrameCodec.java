package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side HTTP/2 frame codec of a client connection: Netty's {@link Http2FrameCodec} with
 * RFC 9113's checks switched on and its errors reported with the code the RFC names.
 *
 * <ul>
 *   <li>Netty validates field names and pseudo-headers while decoding a header block (§8.2.1
 *       lowercase names, §8.2.2 connection-specific fields and {@code te}, §8.3 unknown, duplicated
 *       or misplaced pseudo-headers, pseudo-headers in trailers), checks {@code content-length}
 *       against the DATA received (§8.1.1) and, switched on here, that a request has
 *       {@code :method}, {@code :scheme} and {@code :path} (§8.3.1). Each is a stream error
 *       PROTOCOL_ERROR raised before the frame reaches the stream's channel.
 *   <li>{@link Http2FrameChecks} answers HEADERS and DATA on half-closed and closed streams, and
 *       lower stream identifiers, the way §5.1 and §5.1.1 say.
 *   <li>Stream errors reset the stream with their own code, not CANCEL (see {@link #onError}).
 * </ul>
 */
public final class StrictHttp2FrameCodec extends Http2FrameCodec {
  private static final Logger log = LoggerFactory.getLogger(StrictHttp2FrameCodec.class);

  /**
   * "MadeYouReset" (CVE-2025-8671): a client can make the server reset its streams, a WINDOW_UPDATE
   * that overflows a stream's window or a frame a stream's state does not allow, instead of
   * resetting them itself. Each such stream still cost a request upstream, and Netty's budget of
   * RST_STREAM frames counts only the client's own. The same budget as Netty's (200 in 30 s) for
   * these: past it the connection ends with GOAWAY ENHANCE_YOUR_CALM, as for a rapid reset.
   */
  private final ClientStreamErrors clientStreamErrors = new ClientStreamErrors();
  /** A connection error has scheduled the reset of a client that does not let the connection close. */
  private boolean resetScheduled;
  /**
   * A connection error ended the connection: nothing the client sent after it is decoded (see
   * {@link #decode}: the rest of the read in progress), and reading stops.
   */
  private boolean ended;

  private StrictHttp2FrameCodec(Http2ConnectionEncoder encoder, Http2ConnectionDecoder decoder,
      Http2Settings initialSettings, boolean decoupleCloseAndGoAway, boolean flushPreface, Http2FrameChecks checks) {
    super(encoder, decoder, initialSettings, decoupleCloseAndGoAway, flushPreface);
    checks.attach(connection());
  }

  /** A server codec announcing {@code initialSettings}. */
  public static StrictHttp2FrameCodec forServer(Http2Settings initialSettings) {
    return (StrictHttp2FrameCodec) new Builder().initialSettings(initialSettings).build();
  }

  /**
   * Http2FrameCodec hands an inbound stream error on to the pipeline without resetting the stream
   * (the stream table then ends the stream's side, whose close would reset it with CANCEL).
   * Resetting it here first, with the error's own code (§5.4.2), makes that later reset a no-op.
   */
  @Override
  public void onError(ChannelHandlerContext ctx, boolean outbound, Throwable cause) {
    Http2Exception embedded = Http2CodecUtil.getEmbeddedHttp2Exception(cause);
    if (!outbound && embedded instanceof Http2Exception.StreamException error) {
      if (clientStreamErrors.exceeded(System.nanoTime())) {
        Http2Exception calm = Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
            "more than %d stream errors caused by the client within %d s",
            ClientStreamErrors.MAX, ClientStreamErrors.WINDOW_SECONDS);
        onConnectionError(ctx, false, calm, calm);
        return;
      }
      if (connection().stream(error.streamId()) != null) {
        resetStream(ctx, error.streamId(), error.error().code(), ctx.newPromise());
      }
    }
    super.onError(ctx, outbound, cause);
  }

  /**
   * Opens the connection's receive window to {@code bytes}. SETTINGS size only the streams' windows
   * (RFC 9113 §6.5.2); the connection's starts at 65,535 bytes and grows only by WINDOW_UPDATE on
   * stream 0 (§6.9.2), so left alone it caps what all of a client's streams together may send
   * before an acknowledgement: about 640 KB/s of uploads per connection over a 100 ms round trip.
   * Sized to every stream's window at once, it adds nothing to what the streams' windows already
   * allow in memory. Call on the event loop with the codec's context, once its preface is out.
   */
  public void openConnectionWindow(ChannelHandlerContext ctx, int bytes) {
    Http2Stream connectionStream = connection().connectionStream();
    Http2LocalFlowController flow = connection().local().flowController();
    int delta = bytes - flow.initialWindowSize(connectionStream);
    if (delta > 0) {
      try {
        flow.incrementWindowSize(connectionStream, delta);
      } catch (Http2Exception e) {
        throw new IllegalStateException("connection window of " + bytes + " bytes", e);
      }
      ctx.flush();
    }
  }

  /** Stream errors the client caused, per window; this connection's event loop only. */
  private static final class ClientStreamErrors {
    static final int MAX = 200;
    static final int WINDOW_SECONDS = 30;
    private long windowStart = Long.MIN_VALUE;
    private int count;

    /** Counts one; whether it is one more than the window allows. */
    boolean exceeded(long now) {
      if (windowStart == Long.MIN_VALUE || now - windowStart > WINDOW_SECONDS * 1_000_000_000L) {
        windowStart = now;
        count = 0;
      }
      return ++count > MAX;
    }
  }

  /**
   * A connection error the client caused ends its connection with GOAWAY; Http2FrameCodec would
   * also fire it down the pipeline, where nothing handles it and Netty logs it at WARN with a stack
   * trace, once per hostile connection. It is the client's fault, so it is logged at DEBUG instead
   * (Http2ConnectionHandler's handling does not depend on {@code outbound}; Http2FrameCodec only
   * fires inbound errors). A {@link ClientConnectionError} event goes down the pipeline instead,
   * for the listener to count it and log it in one rate-limited line.
   */
  @Override
  protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
      Http2Exception http2Ex) {
    ended = true;
    // Nor is any more read from the socket (see channelReadComplete): a flooder whose input was only
    // skipped could go on pushing (tens of MB, and the CPU to take them) until the reset below;
    // what stays unread makes the close a reset, which is what this connection gets anyway.
    ctx.channel().config().setAutoRead(false);
    resetIfStillOpen(ctx.channel());
    if (!outbound && http2Ex != null) {
      log.debug("{} HTTP/2 connection error from the client: {}", ctx.channel(), http2Ex.toString());
      super.onConnectionError(ctx, true, cause, http2Ex);
      ctx.fireUserEventTriggered(new ClientConnectionError(http2Ex));
      return;
    }
    super.onConnectionError(ctx, outbound, cause, http2Ex);
  }

  /**
   * After a connection error the rest of what the client sent is dropped unread (RFC 9113 §5.4.1:
   * the endpoint sends GOAWAY and closes). Netty would go on decoding the frames behind the error in
   * the same read, and its GOAWAY for an error names the last stream 2^31-1 (it cannot know the
   * last one it processed, netty#10670), so a HEADERS frame there still opened a stream and its
   * request reached the proxy handler, on a connection already closed (found by
   * Http2FrameSequenceFuzzTest: a request after 200 stream errors, a flood the budget ends).
   */
  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (ended) {
      in.skipBytes(in.readableBytes());
      return;
    }
    super.decode(ctx, in, out);
  }

  /**
   * After a connection error, the flush of a read's end without the read that Netty's handler asks
   * for when auto-read is off ("never stall an HTTP/2 channel"): this one is ending.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (!ended) {
      super.channelReadComplete(ctx);
      return;
    }
    flush(ctx);
    ctx.fireChannelReadComplete();
  }

  /**
   * A connection error closes once its GOAWAY has left, and TLS once its close_notify has: a client
   * that does not read (a PING flood that never takes its ACKs, which Netty's limit of queued
   * control frames ends) lets neither leave, and SslHandler would give up only after 3 s, with a
   * WARN line per connection. Such a client is reset instead, after the time an idle client gets to
   * answer a FIN.
   */
  private void resetIfStillOpen(Channel channel) {
    if (!resetScheduled && channel.isOpen()) {
      resetScheduled = true;
      channel.eventLoop().schedule(() -> {
        if (channel.isOpen()) {
          AbortiveClose.reset(channel);
        }
      }, IdleClose.RESET_AFTER_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /** User event: the client caused an HTTP/2 connection error; GOAWAY is sent and the connection closes. */
  public record ClientConnectionError(Http2Exception cause) {}

  private static final class Builder extends Http2FrameCodecBuilder {
    private final Http2FrameChecks checks = new Http2FrameChecks();

    Builder() {
      // A server connection (the connection's flag is the builder's server()). Response DATA is shared between streams by a uniform distributor, not Netty's default
      // weighted fair queue: RFC 9113 §5.3 deprecates the priority signals that queue orders by
      // (clients no longer send a usable tree), and its bookkeeping per write was ~5% of the event
      // loop under h2 load (docs/benchmarks.md).
      DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
      connection.remote().flowController(
          new DefaultHttp2RemoteFlowController(connection, new UniformStreamByteDistributor(connection)));
      connection(connection);
      frameLogger(checks);
      gracefulShutdownTimeoutMillis(0); // as Http2FrameCodecBuilder.forServer(): the close is the proxy's
      validateHeaders(true);
      validateRequiredPseudoHeaders(true);
    }

    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
        Http2Settings initialSettings) {
      StrictHttp2FrameCodec codec = new StrictHttp2FrameCodec(
          encoder, decoder, initialSettings, decoupleCloseAndGoAway(), flushPreface(), checks);
      codec.gracefulShutdownTimeoutMillis(gracefulShutdownTimeoutMillis());
      return codec;
    }
  }
}
