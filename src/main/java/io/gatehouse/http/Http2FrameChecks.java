package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Headers.PseudoHeaderName;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.logging.LogLevel;

/**
 * Checks on inbound HEADERS and DATA frames that Netty's connection decoder makes differently from
 * RFC 9113, run before it sees the frame. It sits where Netty calls a frame logger: between the
 * frame reader (which has decoded and validated the header block) and the decoder's stream state
 * machine, the one place Netty offers for looking at each frame with the connection state as it was
 * before the frame. It logs nothing.
 *
 * <ul>
 *   <li>HEADERS on a stream whose client already sent END_STREAM: Netty says PROTOCOL_ERROR ("too
 *       many headers"); §5.1 half-closed (remote) says stream error STREAM_CLOSED.
 *   <li>HEADERS or DATA on a stream Netty no longer knows, below the highest identifier opened:
 *       Netty says stream error STREAM_CLOSED. Unless the stream ended with a RST_STREAM (frames
 *       sent before the peer saw it are expected, and get Netty's answer), that is a connection
 *       error: STREAM_CLOSED on a stream that was open once (§5.1 closed), PROTOCOL_ERROR on an
 *       identifier that was never opened, a client reusing a lower one (§5.1.1).
 *   <li>A CONNECT request with {@code :scheme} or {@code :path}, or whose {@code :authority} is not
 *       {@code host:port} (§8.5): Netty hands it on; it is
 *       malformed, a stream error PROTOCOL_ERROR (found by {@code Http2FrameSequenceFuzzTest}).
 *   <li>Any request with {@code :protocol} (RFC 8441): extended CONNECT is never enabled here.
 *   <li>A request whose {@code :path} is neither origin-form ("/...") nor
 *       "*" for OPTIONS (§8.3.1): Netty checks only that it is there and not empty, and would hand on
 *       {@code OPTIONS localhost} (found by {@code Http2FrameSequenceFuzzTest}).
 * </ul>
 *
 * <p>Confined to the connection's event loop, like the codec that calls it.
 */
final class Http2FrameChecks extends Http2FrameLogger {
  private static final String CONNECT = "CONNECT";
  private static final String OPTIONS = "OPTIONS";
  private final Http2StreamHistory history = new Http2StreamHistory();
  private Http2Connection connection;

  Http2FrameChecks() {
    super(LogLevel.TRACE, Http2FrameChecks.class);
  }

  /** Called once the codec, and so the connection, exists. */
  void attach(Http2Connection connection) {
    this.connection = connection;
    connection.addListener(history);
  }

  @Override
  public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int padding, boolean endStream) {
    if (direction == Direction.INBOUND) {
      checkInbound(streamId, headers);
    }
  }

  @Override
  public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int streamDependency, short weight, boolean exclusive, int padding, boolean endStream) {
    if (direction == Direction.INBOUND) {
      checkInbound(streamId, headers);
    }
  }

  @Override
  public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
      boolean endStream) {
    if (direction == Direction.INBOUND && connection.stream(streamId) == null) {
      checkUnknownStream(streamId);
    }
  }

  /**
   * Every RST_STREAM either way, including the ones Netty sends for streams it never created (a
   * stream refused past SETTINGS_MAX_CONCURRENT_STREAMS), whose DATA may still be in flight.
   */
  @Override
  public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
    history.rememberReset(streamId);
  }

  /** Every check on an inbound header block, for both forms of HEADERS (with and without priority). */
  private void checkInbound(int streamId, Http2Headers headers) {
    checkHeaders(streamId);
    checkConnect(streamId, headers);
    checkPath(streamId, headers);
  }

  private void checkHeaders(int streamId) {
    Http2Stream stream = connection.stream(streamId);
    if (stream == null) {
      if (history.wasReset(streamId) && !connection.goAwaySent() && (streamId & 1) == 1
          && streamId > connection.remote().lastStreamCreated()) {
        // The stream's first header block was refused before Netty created the stream (a malformed
        // block is a stream error at decoding), so Netty would open it anew for these HEADERS. The
        // identifier was used (§5.1.1) and reset: a request on it is not a new request (found by
        // Http2FrameSequenceFuzzTest: the second block reached the proxy).
        throw rethrow(Http2Exception.streamError(streamId, Http2Error.STREAM_CLOSED,
            "HEADERS on stream %d, which was reset", streamId));
      }
      checkUnknownStream(streamId);
    } else if (!stream.isResetSent()
        && (stream.state() == Http2Stream.State.HALF_CLOSED_REMOTE || stream.state() == Http2Stream.State.CLOSED)) {
      throw rethrow(Http2Exception.streamError(streamId, Http2Error.STREAM_CLOSED,
          "HEADERS on stream %d after its END_STREAM", streamId));
    }
  }

  /**
   * §8.5: a CONNECT request has {@code :authority} only (RFC 8441's extended CONNECT, with
   * {@code :protocol}, is never enabled here and refused first); with {@code :scheme} or {@code :path} it
   * is malformed (§8.1.1), a stream error PROTOCOL_ERROR. Netty checks only that {@code :authority}
   * is there, and would hand on the request with the other two dropped.
   */
  private static void checkConnect(int streamId, Http2Headers headers) {
    if (headers.get(PseudoHeaderName.PROTOCOL.value()) != null) {
      // RFC 8441 §3-4: :protocol is only for an extended CONNECT, which needs
      // SETTINGS_ENABLE_CONNECT_PROTOCOL from the server; this server never sends it, so a request
      // with :protocol is malformed (§8.1.1). Netty hands it on (found by Http2FrameSequenceFuzzTest).
      throw rethrow(Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR,
          "request on stream %d with :protocol, which this server does not enable", streamId));
    }
    if (headers.method() != null && CONNECT.contentEquals(headers.method())
        && (headers.scheme() != null || headers.path() != null)) {
      throw rethrow(Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR,
          "CONNECT request on stream %d with :scheme or :path", streamId));
    }
    if (headers.method() != null && CONNECT.contentEquals(headers.method()) && headers.authority() != null
        && !authorityForm(headers.authority().toString())) {
      // §8.5: a CONNECT's :authority is the host and port to connect to, the authority-form of RFC
      // 9112 §3.2.3 (uri-host ":" port). Netty checks only that it is there; "/a?b" went on as the
      // target (found by Http2FrameSequenceFuzzTest).
      throw rethrow(Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR,
          "CONNECT request on stream %d whose :authority is not host:port", streamId));
    }
  }

  /** authority-form (RFC 9112 §3.2.3): a valid host, then ":" and the port. */
  private static boolean authorityForm(String authority) {
    int hostEnd = authority.startsWith("[") ? authority.indexOf(']') + 1 : authority.indexOf(':');
    return hostEnd > 0 && hostEnd < authority.length() && authority.charAt(hostEnd) == ':' && HostSyntax.valid(authority);
  }

  /**
   * §8.3.1: for an {@code http} or {@code https} URI, {@code :path} is the origin-form's path and
   * query (so it starts with "/"), or "*" for a server-wide OPTIONS. Anything else (an authority, an
   * absolute URI) is malformed, a stream error PROTOCOL_ERROR; an empty or missing one Netty refuses
   * itself. The same form is required whatever the {@code :scheme}: a request goes on as HTTP/1.1
   * in origin-form, and a path this proxy cannot place is refused here rather than guessed at.
   */
  private static void checkPath(int streamId, Http2Headers headers) {
    CharSequence path = headers.path();
    if (path == null || path.length() == 0 || headers.scheme() == null) {
      return;
    }
    if (path.charAt(0) == '/') {
      return;
    }
    if (path.length() == 1 && path.charAt(0) == '*' && headers.method() != null && OPTIONS.contentEquals(headers.method())) {
      return;
    }
    throw rethrow(Http2Exception.streamError(streamId, Http2Error.PROTOCOL_ERROR,
        "request on stream %d with a :path that is neither origin-form nor * for OPTIONS", streamId));
  }

  private void checkUnknownStream(int streamId) {
    if (connection.goAwaySent() || (streamId & 1) == 0 || streamId > connection.remote().lastStreamCreated()
        || history.wasReset(streamId)) {
      return; // new, server-side or reset: Netty's own answer is right
    }
    throw rethrow(history.wasOpened(streamId)
        ? Http2Exception.connectionError(Http2Error.STREAM_CLOSED, "frame on closed stream %d", streamId)
        : Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
            "stream %d is below the highest stream opened and was never opened", streamId));
  }

  /**
   * Throws an {@link Http2Exception} from a method that cannot declare it. The reader's listener
   * that calls this declares it, so it takes the path of Netty's own checks: a stream error resets
   * the stream, a connection error sends GOAWAY and closes. (Wrapped in an unchecked exception, the
   * reader would take it for a bug and stop reading the connection.)
   */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException rethrow(Throwable error) throws T {
    throw (T) error;
  }
}
