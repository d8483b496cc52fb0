package io.gatehouse.relay;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.HalfClose;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An HTTP/1 client connection as the client side of its exchanges: requests one after the other,
 * closed after the last, by a FIN that loses nothing written to it.
 */
final class Http1Downstream extends Downstream {
  Http1Downstream(Channel channel, ChannelHandlerContext flowControl, ClientTimeoutHandler timeouts,
      Supplier<Stage> stage) {
    super(channel, flowControl, timeouts, stage);
  }

  @Override
  public boolean http2() {
    return false;
  }

  /**
   * The client half-closed (RFC 9112 §9.6). The flow-control handler delivers this after every
   * request sent before the FIN, so: between requests, close once the responses are out; in the
   * middle of a request body, the client aborted.
   */
  @Override
  void onInputEnded() {
    inputEnded = true;
    if (lingering) {
      afterFlush();
      return;
    }
    switch (stage.get()) {
      case READING_BODY -> channel.close(); // body cut short: the exchange ends as client_aborted
      case IDLE -> afterFlush(); // between requests: everything sent was answered
      case DISCARDING_BODY -> afterFlush(); // the body of a request answered locally was cut short
      default -> { } // the response is still coming, or the request waits: the handler closes after it
    }
  }

  /**
   * The next close of this connection is abortive (TCP RST, SO_LINGER 0): for a client cut because
   * it does not read its response. A plain close would leave the unread response in the kernel's
   * send queue, which a slow reader keeps pinned for as long as it goes on taking a few bytes at a
   * time (the socket lingers in FIN-WAIT-1: a megabyte or more per connection, for hours); the reset
   * drops it at once.
   */
  @Override
  void resetOnClose() {
    AbortiveClose.armOnClose(channel);
  }

  /** Closes once everything written so far has left. */
  @Override
  void afterFlush() {
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Closes after a local reply without losing it. A plain close while request bytes are still
   * unread makes the kernel send RST, and a client that receives RST before it read the reply
   * loses the reply (RFC 9112 §9.6). So: flush, half-close (FIN after the reply), drop whatever
   * the client still sends, and close when it closes or after {@link #LINGER_MILLIS}.
   */
  @Override
  void linger() {
    lingering = true;
    if (!(channel instanceof DuplexChannel) || channel.pipeline().get(PipelineNames.TLS) != null
        || inputEnded || ((DuplexChannel) channel).isInputShutdown()) {
      // TLS: a half-close under the TLS layer would skip close_notify. Input ended: nothing to drain.
      afterFlush();
      return;
    }
    // From here the client's EOF closes the connection, as it did before the half-close support.
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
      if (!written.isSuccess() || !channel.isActive()) {
        channel.close();
        return;
      }
      HalfClose.shutdownOutput(channel).addListener(shut -> {
        if (!shut.isSuccess()) {
          channel.close();
          return;
        }
        channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        channel.config().setAutoRead(true); // input is dropped in channelRead; EOF closes the channel
      });
    });
  }

  /** Nothing: the half-closed connection reads on by itself (autoRead) until the client's EOF. */
  @Override
  void lingerOn() {}
}
