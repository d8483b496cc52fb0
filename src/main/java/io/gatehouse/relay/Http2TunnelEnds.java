package io.gatehouse.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2StreamChannel;

/**
 * How a {@link TunnelRelay} side that is an HTTP/2 stream (a CONNECT, RFC 9113 §8.5) ends, where a
 * socket side would shut down or close: the stream's {@code http-codec} ({@code
 * http.Http2TunnelCodec}) turns its DATA into bytes and its END_STREAM into the end of input, and
 * this is the other half.
 *
 * <ul>
 *   <li>half-close: a DATA frame with END_STREAM; once both ends sent theirs the stream is closed and
 *       closing its channel sends nothing more (Netty resets only a stream still open);
 *   <li>abort: closing the channel of a stream still open resets it (RST_STREAM CANCEL); a reset of
 *       the TCP connection upstream is RST_STREAM CONNECT_ERROR (§8.5);
 *   <li>the other way, a stream that ends without both END_STREAMs (a RST_STREAM from the client, an
 *       error or loss of the HTTP/2 connection) resets the TCP connection upstream (§8.5: "a proxy
 *       MUST send a TCP segment with the RST bit set if it detects an error with the stream or the
 *       HTTP/2 connection"), not a FIN that would pass a cut upload for a complete one.
 * </ul>
 */
final class Http2TunnelEnds {
  private Http2TunnelEnds() {}

  static boolean isStream(Channel channel) {
    return channel instanceof Http2StreamChannel;
  }

  /** END_STREAM after what is queued; then, when {@code close}, the stream's channel closes. */
  static void endOutput(Channel stream, boolean close) {
    var sent = stream.writeAndFlush(new DefaultHttp2DataFrame(true));
    if (close) {
      sent.addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** The upstream TCP connection was reset: RST_STREAM CONNECT_ERROR, then the channel closes. */
  static void connectError(Channel stream) {
    stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CONNECT_ERROR)).addListener(ChannelFutureListener.CLOSE);
  }
}
