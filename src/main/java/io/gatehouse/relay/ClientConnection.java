package io.gatehouse.relay;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.HalfClose;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The lifecycle of one client connection, apart from its requests: the drain signals it gets
 * (close when idle at its slot, {@code Connection: close} on the next response, the deadline), the
 * client's half-close (RFC 9112 §9.6), and how it closes without losing what was written to it:
 * after a flush, or, after a local reply while the client may still be sending, lingering. Its
 * {@link ProxyConnectionHandler} tells it where the connection stands ({@link Stage}). One per
 * connection, on its event loop: plain fields.
 */
final class ClientConnection {
  /** Where the connection's requests stand, as the proxy handler knows it. */
  enum Stage {
    /** No request in progress: nothing would be lost by closing. */
    IDLE,
    /** An exchange is relaying the request's body. */
    READING_BODY,
    /** An exchange read the whole request; its response is still coming. */
    RESPONDING,
    /** A request answered locally whose body is still arriving (read and dropped). */
    DISCARDING_BODY,
    /** A request waits on something asynchronous (a login check, DNS, a tunnel's connect). */
    WAITING
  }

  /** How long a closing connection keeps draining client input after the reply (lingering close). */
  static final long LINGER_MILLIS = 2000;

  private final Channel channel;
  /** The flow-control handler's context, where reads are asked for; null on a bare pipeline. */
  private final ChannelHandlerContext flowControl;
  private final java.util.function.Supplier<Stage> stage;
  /** A closing local reply was sent: input is read and dropped until the client closes. */
  private boolean lingering;
  /** A drain started: responses say {@code Connection: close}, and an idle connection closes. */
  private boolean draining;
  /** The stop's drain deadline passed: what is cut now was cut by the proxy, not the client. */
  private boolean drainDeadline;
  /** The client half-closed: the requests it sent before are answered, then the connection closes. */
  private boolean inputEnded;
  /** Counts the drain's idle checks: a check armed again supersedes the earlier one. */
  private int idleChecks;
  /** Its move to a successor process at a hand-off, if the drain hands it over. */
  private final Handover handover;

  ClientConnection(Channel channel, ChannelHandlerContext flowControl, ClientTimeoutHandler timeouts,
      java.util.function.Supplier<Stage> stage) {
    this.channel = channel;
    this.flowControl = flowControl;
    this.stage = stage;
    this.handover = new Handover(this, channel, flowControl, timeouts, stage);
  }

  /**
   * Keeps a socket read pending while the response is relayed, so the read interest is never
   * switched off and on again for each request (two epoll_ctl calls saved per request). What it
   * reads waits in the flow-control handler, which passes nothing on until asked: at most one
   * read's worth of a pipelining client's next requests.
   */
  void prefetch() {
    if (flowControl != null) {
      flowControl.read();
    }
  }

  boolean lingering() {
    return lingering;
  }

  boolean draining() {
    return draining;
  }

  boolean drainDeadline() {
    return drainDeadline;
  }

  boolean inputEnded() {
    return inputEnded;
  }

  /**
   * A drain reached this connection. At its slot in the spread ({@link DrainSignal#slotNanos}) its
   * responses start to close it; idle then, it closes once it has stayed idle through
   * {@link DrainSignal#IDLE_GRACE_NANOS}.
   */
  void onDrain(DrainSignal drain) {
    if (drain == DrainSignal.DEADLINE) {
      draining = true;
      drainDeadline = true; // the server closes the channel right after this event
      return;
    }
    Runnable start = drain.handsOver() && handover.movable() ? handover::start : this::startDraining;
    long slot = drain.slotNanos();
    if (slot == 0) {
      start.run();
    } else {
      // Until then its requests are served as before: a takeover's successor takes the busy
      // connections over one slot after the other, not all at its first moment.
      channel.eventLoop().schedule(start, slot, TimeUnit.NANOSECONDS);
    }
  }

  Handover handover() {
    return handover;
  }

  /** From now on its responses close it, and it closes if it stays idle through the grace. */
  void startDraining() {
    if (draining || handover.active() || !channel.isOpen()) {
      return;
    }
    draining = true;
    armIdleClose();
  }

  /**
   * An exchange ended and the connection stays open although it drains: the response's head went
   * out before the slot, promising keep-alive, so closing now could meet the client's next request.
   * The grace starts again from now.
   */
  void idleAgain() {
    if (draining) {
      armIdleClose();
    }
  }

  /**
   * Closes the connection if it is still idle after the grace: a client between two requests sends
   * the next one within it and gets its answer with Connection: close; closed at once, its request
   * could meet the FIN (RFC 9112 §9.3.1). Only the latest armed check counts.
   */
  private void armIdleClose() {
    int check = ++idleChecks;
    channel.eventLoop().schedule(() -> {
      if (check == idleChecks) {
        closeIfIdle();
      }
    }, DrainSignal.IDLE_GRACE_NANOS, TimeUnit.NANOSECONDS);
  }

  private void closeIfIdle() {
    if (stage.get() == Stage.IDLE && !handover.frozen()) {
      channel.close(); // idle keep-alive connection: nothing in flight
    }
  }

  /**
   * The client half-closed (RFC 9112 §9.6). The flow-control handler delivers this after every
   * request sent before the FIN, so: between requests, close once the responses are out; in the
   * middle of a request body, the client aborted.
   */
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
   * drops it at once. An HTTP/2 stream is reset by its own close; its connection stays.
   */
  void resetOnClose() {
    AbortiveClose.armOnClose(channel);
  }

  /** Closes once everything written so far has left (an HTTP/2 stream ends with its response). */
  void afterFlush() {
    if (channel instanceof Http2StreamChannel) {
      channel.flush();
      return;
    }
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
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

  /**
   * Closes after a local reply without losing it. A plain close while request bytes are still
   * unread makes the kernel send RST, and a client that receives RST before it read the reply
   * loses the reply (RFC 9112 §9.6). So: flush, half-close (FIN after the reply), drop whatever
   * the client still sends, and close when it closes or after {@link #LINGER_MILLIS}.
   */
  void linger() {
    lingering = true;
    if (channel instanceof Http2StreamChannel) {
      // An HTTP/2 stream ends with the response and the client's END_STREAM (RFC 9113 §8.1): what
      // the client still sends on it is read and dropped (ProxyConnectionHandler reads on), giving
      // its window back, until that END_STREAM closes the stream. Left unread, the DATA would wait
      // in the stream channel, which Netty then never closes, and never releases, when the
      // connection goes. A client that keeps its stream open past the linger time, once the
      // response is out, gets it reset (RST_STREAM CANCEL), as a socket gets closed.
      channel.flush();
      channel.read();
      channel.eventLoop().schedule(this::endLingeringStream, LINGER_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
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
}
