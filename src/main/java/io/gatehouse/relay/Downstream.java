package io.gatehouse.relay;

import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.ClientTimeouts;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The client side of a proxy handler's exchanges (Envoy's "downstream"): what the relay reads a
 * request from and writes its response to, and how that side ends without losing what was written
 * to it. An HTTP/1 connection ({@link Http1Downstream}) carries its requests one after the other and
 * closes; an HTTP/2 stream ({@link Http2StreamSide}) carries one request and ends with it,
 * its connection staying. The relay ({@link ProxyConnectionHandler}, {@link HttpExchange},
 * {@link RequestStream}, {@link UpstreamAttempt}) speaks to this, never to the channel, so that what
 * differs between the two lives here, in one place each.
 *
 * <p>Besides the I/O it keeps the drain signals the side gets (close when idle at its slot,
 * {@code Connection: close} on the next response, the deadline), the client's half-close (RFC 9112
 * §9.6) and the lingering close after a local reply. Its {@link ProxyConnectionHandler} tells it
 * where the exchanges stand ({@link Stage}). One per connection or stream, on its event loop: plain
 * fields.
 */
public abstract class Downstream {
  /** Where the requests stand, as the proxy handler knows it. */
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

  /** How long a closing side keeps draining client input after the reply (lingering close). */
  static final long LINGER_MILLIS = 2000;

  final Supplier<Stage> stage;
  /** A closing local reply was sent: input is read and dropped until the client ends it. */
  boolean lingering;
  /** A drain started: responses say {@code Connection: close}, and an idle side closes. */
  private boolean draining;
  /** The stop's drain deadline passed: what is cut now was cut by the proxy, not the client. */
  private boolean drainDeadline;
  /** The client half-closed: the requests it sent before are answered, then the connection closes. */
  boolean inputEnded;
  /** Counts the drain's idle checks: a check armed again supersedes the earlier one. */
  private int idleChecks;
  /** Its move to a successor process at a hand-off, if the drain hands it over. */
  private final Handover handover;

  /** {@code channel}: an HTTP/1 connection a hand-off may move, else null. */
  Downstream(Channel channel, ChannelHandlerContext flowControl, ClientTimeouts timeouts, Supplier<Stage> stage) {
    this.stage = stage;
    this.handover = new Handover(this, channel, flowControl, timeouts, stage);
  }

  // ---- I/O

  /** Whether this is an HTTP/2 stream (whose requests come as HTTP/1.1 heads: the log and Via say so). */
  public abstract boolean http2();

  public abstract EventLoop eventLoop();

  public abstract ByteBufAllocator alloc();

  /** The client's address (behind a PROXY-protocol balancer, the one its header named). */
  public abstract ClientAddress clientAddress();

  /** The listener's address the client connected to. */
  public abstract SocketAddress localAddress();

  /**
   * The channel of an HTTP/1 connection, for what only a socket has: a tunnel or a protocol upgrade
   * takes it over, a hand-off moves it. An HTTP/2 stream has none: null.
   */
  public abstract Channel channel();

  public abstract boolean isActive();

  public abstract boolean isOpen();

  /** Whether the client takes what is written as fast as it comes: the upstream reads only while it does. */
  public abstract boolean isWritable();

  /** Asks for the next part of the request, or the next request: delivered to the proxy handler. */
  public abstract void read();

  public abstract void write(Object message);

  /** Writes and flushes; a failed write reaches the proxy handler as an exception (which closes). */
  public abstract void writeAndFlush(Object message);

  /** Writes and flushes a local reply; a failed write is not reported (the client is gone: its close says so). */
  abstract void writeReply(Object reply);

  public abstract void flush();

  /** Ends it at once: what is not sent yet is lost (an HTTP/2 stream still open is reset). */
  public abstract void close();

  /** Keeps a read pending while the response is relayed (see {@link Http1Downstream#prefetch}). */
  abstract void prefetch();

  // ---- endings

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
   * A drain reached this side. At its slot in the spread ({@link DrainSignal#slotNanos}) its
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
      eventLoop().schedule(start, slot, TimeUnit.NANOSECONDS);
    }
  }

  Handover handover() {
    return handover;
  }

  /** From now on its responses close it, and it closes if it stays idle through the grace. */
  void startDraining() {
    if (draining || handover.active() || !isOpen()) {
      return;
    }
    draining = true;
    armIdleClose();
  }

  /**
   * An exchange ended and the side stays open although it drains: the response's head went out
   * before the slot, promising keep-alive, so closing now could meet the client's next request.
   * The grace starts again from now.
   */
  void idleAgain() {
    if (draining) {
      armIdleClose();
    }
  }

  /**
   * Closes if still idle after the grace: a client between two requests sends the next one within
   * it and gets its answer with Connection: close; closed at once, its request could meet the FIN
   * (RFC 9112 §9.3.1). Only the latest armed check counts.
   */
  private void armIdleClose() {
    int check = ++idleChecks;
    eventLoop().schedule(() -> {
      if (check == idleChecks) {
        closeIfIdle();
      }
    }, DrainSignal.IDLE_GRACE_NANOS, TimeUnit.NANOSECONDS);
  }

  private void closeIfIdle() {
    if (stage.get() == Stage.IDLE && !handover.frozen()) {
      close(); // idle: nothing in flight
    }
  }

  /** The client half-closed its side (RFC 9112 §9.6); an HTTP/2 stream's end of input is its END_STREAM. */
  abstract void onInputEnded();

  /**
   * The next close is abortive: for a client cut because it does not read its response (see
   * {@link Http1Downstream#resetOnClose}); an HTTP/2 stream is reset by its own close.
   */
  abstract void resetOnClose();

  /** Ends once everything written so far has left: a connection closes, a stream ends with its response. */
  abstract void afterFlush();

  /**
   * Ends after a local reply without losing it, while the client may still be sending: what it
   * still sends is read and dropped for a while ({@link #LINGER_MILLIS}).
   */
  abstract void linger();

  /** A message that arrived while lingering was dropped: keeps the input coming where nothing else reads it. */
  abstract void lingerOn();
}
