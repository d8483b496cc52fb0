package io.gatehouse.relay;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.HalfClose;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An HTTP/1 client connection as the client side of its exchanges: requests one after the other,
 * closed after the last, by a FIN that loses nothing written to it.
 */
final class Http1Downstream extends Downstream {
  /** The connection's channel. */
  private final Channel channel;
  /** The flow-control handler's context, where reads are asked for; null on a bare pipeline. */
  private final ChannelHandlerContext flowControl;

  Http1Downstream(Channel channel, ChannelHandlerContext flowControl, ClientTimeouts timeouts,
      Supplier<Stage> stage) {
    super(channel, flowControl, timeouts, stage);
    this.channel = channel;
    this.flowControl = flowControl;
  }

  // ---- I/O: the connection's channel, read through its flow-control handler

  @Override
  public EventLoop eventLoop() {
    return channel.eventLoop();
  }

  @Override
  public ByteBufAllocator alloc() {
    return channel.alloc();
  }

  /** The client's address (behind a PROXY-protocol balancer, the one its header named). */
  @Override
  public ClientAddress clientAddress() {
    return ClientAddress.of(channel);
  }

  /** The listener's address the client connected to. */
  @Override
  public SocketAddress localAddress() {
    return channel.localAddress();
  }

  /**
   * The channel of an HTTP/1 connection, for what only a socket has: a tunnel or a protocol upgrade
   * takes it over, a hand-off moves it.
   */
  @Override
  public Channel channel() {
    return channel;
  }

  @Override
  public boolean isActive() {
    return channel.isActive();
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  /** Whether the client takes what is written as fast as it comes: the upstream reads only while it does. */
  @Override
  public boolean isWritable() {
    return channel.isWritable();
  }

  /** Asks for the next part of the request, or the next request: delivered to the proxy handler. */
  @Override
  public void read() {
    channel.read();
  }

  @Override
  public void write(Object message) {
    channel.write(message, channel.voidPromise());
  }

  /** Writes and flushes; a failed write reaches the proxy handler as an exception (which closes). */
  @Override
  public void writeAndFlush(Object message) {
    channel.writeAndFlush(message, channel.voidPromise());
  }

  /** Writes and flushes a local reply; a failed write is not reported (the client is gone: its close says so). */
  @Override
  void writeReply(Object reply) {
    channel.writeAndFlush(reply);
  }

  @Override
  public void flush() {
    channel.flush();
  }

  /** Ends it at once: what is not sent yet is lost (an HTTP/2 stream still open is reset). */
  @Override
  public void close() {
    channel.close();
  }

  /**
   * Keeps a read pending while the response is relayed, so the read interest is never switched off
   * and on again for each request (two epoll_ctl calls saved per request). What it reads waits in
   * the flow-control handler, which passes nothing on until asked: at most one read's worth of a
   * pipelining client's next requests.
   */
  @Override
  void prefetch() {
    if (flowControl != null) {
      flowControl.read();
    }
  }

  // ---- endings

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
