package io.gatehouse.relay;

import io.gatehouse.http.ClientTimeoutHandler;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An HTTP/2 stream as the client side of its one exchange: it ends with its response and the
 * client's END_STREAM (RFC 9113 §8.1), or with a reset; its connection stays.
 */
final class Http2StreamDownstream extends Downstream {
  Http2StreamDownstream(Channel stream, ChannelHandlerContext flowControl, ClientTimeoutHandler timeouts,
      Supplier<Stage> stage) {
    super(stream, flowControl, timeouts, stage);
  }

  @Override
  public boolean http2() {
    return true;
  }

  /** Nothing: a stream's end of input is its request's END_STREAM, which ends the request. */
  @Override
  void onInputEnded() {}

  /** Nothing: a stream cut is reset by its own close, and its connection stays. */
  @Override
  void resetOnClose() {}

  /** The stream ends with its response: what remains is to send it. */
  @Override
  void afterFlush() {
    channel.flush();
  }

  /**
   * What the client still sends on the stream is read and dropped (ProxyConnectionHandler reads
   * on), giving its window back, until its END_STREAM closes the stream. Left unread, the DATA would
   * wait in the stream channel, which Netty then never closes, and never releases, when the
   * connection goes. A client that keeps its stream open past the linger time, once the response is
   * out, gets it reset (RST_STREAM CANCEL), as a socket gets closed.
   */
  @Override
  void linger() {
    lingering = true;
    channel.flush();
    channel.read();
    channel.eventLoop().schedule(this::endLingeringStream, LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Drained until the client's END_STREAM ends the stream: one read after another. */
  @Override
  void lingerOn() {
    channel.read();
  }

  /**
   * Resets a lingering stream once its response is out: the stream's END_STREAM has left the
   * flow-control queue (half-closed local, RFC 9113 §5.1). A response still waiting for the client's
   * window is not cut by this (a reset would drop it); the stream's timeouts bound that wait.
   */
  private void endLingeringStream() {
    if (!channel.isOpen()) {
      return;
    }
    Http2Stream.State state = ((Http2StreamChannel) channel).stream().state();
    if (state == Http2Stream.State.OPEN || state == Http2Stream.State.HALF_CLOSED_REMOTE) {
      channel.eventLoop().schedule(this::endLingeringStream, LINGER_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    channel.close();
  }
}
