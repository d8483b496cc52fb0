package io.gatehouse.relay;

import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.OnDemandReader;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.ServerCodec;
import io.gatehouse.relay.Downstream.Stage;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A client connection's move to a successor process at a hand-off (its {@link Downstream}'s
 * drain starts it at the connection's slot, instead of draining, when the successor takes
 * connections): from then on its responses keep it open, and the first time it is idle with
 * nothing of a next request read, it takes itself off the event loop ({@link #freezeWhenIdle}) for
 * the hand-off's thread to send ({@link ConnectionHandover}); a response still streaming a while
 * later may be frozen and moved with its upstream socket ({@link ResponseHandover}). If the move
 * does not happen, {@link #stayHere} puts the connection back to work and it drains. On the
 * connection's event loop, but for the two volatile fields the hand-off's thread reads.
 */
final class Handover {
  private final Downstream connection;
  private final Channel channel;
  /** The flow-control handler's context, whose queue holds decoded requests not yet asked for; may be null. */
  private final ChannelHandlerContext flowControl;
  /** The connection's timeouts, held while it is frozen; null on a bare pipeline. */
  private final ClientTimeouts timeouts;
  private final Supplier<Stage> stage;
  /**
   * A hand-off's successor takes this connection over (from its slot on): its responses keep it
   * open, and once it is idle it leaves the event loop to be moved.
   */
  private boolean handingOver;
  /** Off the event loop for a move (or on its way off): nothing of this process reads it. */
  private boolean frozen;
  /** Frozen with nothing of a next request read: the hand-off's thread may send it (any thread reads it). */
  private volatile boolean readyToMove;
  /** The successor holds the socket: this process's copy is closed and nothing more is done here. */
  private boolean movedAway;
  /** When it started to be handed over ({@code System.nanoTime()}), 0 when it is not (any thread reads it). */
  private volatile long handingOverSince;

  Handover(Downstream connection, Channel channel, ChannelHandlerContext flowControl,
      ClientTimeouts timeouts, Supplier<Stage> stage) {
    this.connection = connection;
    this.channel = channel;
    this.flowControl = flowControl;
    this.timeouts = timeouts;
    this.stage = stage;
  }

  /**
   * Whether the socket itself can go to another process: a plain TCP connection speaking HTTP/1
   * (no TLS state in this process, no HTTP/2 connection state, not a tunnel, whose own move is
   * {@link TunnelRelay}'s).
   */
  boolean movable() {
    return channel instanceof io.netty.channel.epoll.AbstractEpollStreamChannel
        && channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) == null
        && channel.pipeline().get(PipelineNames.HTTP_CODEC) instanceof ServerCodec
        && TunnelRelay.of(channel) == null;
  }

  /** Whether the connection is handed over: it keeps alive and moves once idle, instead of draining. */
  boolean active() {
    return handingOver;
  }

  /** From its slot on, the connection keeps alive and moves once idle, instead of closing. */
  void start() {
    if (connection.draining() || handingOver || !channel.isOpen()) {
      return;
    }
    handingOver = true;
    handingOverSince = System.nanoTime() | 1; // never 0
    if (stage.get() == Stage.IDLE) {
      freezeWhenIdle();
    }
  }

  /**
   * An exchange ended while the connection is handed over: instead of reading the next request,
   * it leaves the event loop once the response is out (the next request waits in the kernel for
   * the successor). Run as a task, so that the response's last flush comes first.
   */
  void moveWhenIdle() {
    channel.eventLoop().execute(this::freezeWhenIdle);
  }

  /**
   * Takes an idle connection off the event loop for the move, once its last response left and
   * provided nothing of a next request was read (a pipelining client's next request is answered
   * here instead, and the connection drains as without a successor). The deregistration runs as a
   * later task: a request read before it keeps the connection here until its exchange ends.
   */
  private void freezeWhenIdle() {
    if (!handingOver || frozen || movedAway || !channel.isActive() || stage.get() != Stage.IDLE) {
      return; // an exchange in progress tries again when it ends
    }
    if (closing()) {
      return; // its idle timeout's FIN went out (and a reset may follow): it ends here, it never moves
    }
    if (!nothingRead()) {
      stayHere();
      return;
    }
    if (!SpliceCounter.nothingQueued(channel)) {
      // The last response is still going out (a slow reader): its bytes are this process's to send.
      channel.eventLoop().schedule(this::freezeWhenIdle, 10, TimeUnit.MILLISECONDS);
      return;
    }
    frozen = true;
    channel.deregister().addListener(done -> {
      if (done.isSuccess() && handingOver && channel.isActive() && stage.get() == Stage.IDLE && nothingRead()
          && !closing() && SpliceCounter.nothingQueued(channel)) {
        if (timeouts != null) {
          timeouts.suspend(); // an idle timeout's FIN would end the successor's connection too
        }
        readyToMove = true;
      } else {
        reRegister(done.isSuccess() && handingOver && stage.get() == Stage.IDLE ? this::stayHere : null);
      }
    });
  }

  /** No byte of a next request was read: none waits in the decoder, none decoded in the queue. */
  boolean nothingRead() {
    ChannelHandler codec = channel.pipeline().get(PipelineNames.HTTP_CODEC);
    ChannelHandler queue = flowControl == null ? null : flowControl.handler();
    return !connection.lingering() && !connection.inputEnded() && codec instanceof ServerCodec server && server.betweenRequests()
        && (!(queue instanceof OnDemandReader reader) || reader.queued() == 0);
  }

  /**
   * The connection is being closed here: an idle timeout sent its FIN (the socket's output is shut,
   * which the successor would inherit) or expired it. Such a connection never moves.
   */
  private boolean closing() {
    return (channel instanceof io.netty.channel.socket.DuplexChannel duplex && duplex.isOutputShutdown())
        || (timeouts != null && timeouts.expired());
  }

  boolean readyToMove() {
    return readyToMove;
  }

  /** See {@link #handingOverSince}; any thread. */
  long handingOverSince() {
    return handingOverSince;
  }

  /**
   * A response in flight on this connection is being frozen for a move ({@link ResponseHandover}):
   * the connection does not freeze itself meanwhile, and its timeouts are held.
   */
  boolean freezeResponse() {
    if (!handingOver || frozen || movedAway) {
      return false;
    }
    frozen = true;
    if (timeouts != null) {
      timeouts.suspend();
    }
    return true;
  }

  /** Off the event loop for a move, or on its way off: its exchange's flow control waits for the thaw. */
  boolean frozen() {
    return frozen;
  }

  /** The response did not move: the connection is timed again and hands over as before. */
  void responseThawed() {
    frozen = false;
    if (timeouts != null) {
      timeouts.resume();
    }
    if (handingOver && stage.get() == Stage.IDLE) {
      freezeWhenIdle(); // the response ended during the freeze: the connection moves idle instead
    }
  }

  /** The response moved with the socket: this process's copy is being closed. */
  void responseMovedAway() {
    movedAway = true;
    readyToMove = false;
  }

  /**
   * The connection does not move (the successor refused it, or the hand-off broke off): it joins
   * the event loop again and drains as without a successor ({@code Connection: close} on its next
   * response, closed when idle through the grace). Call on its loop.
   */
  void stayHere() {
    if (movedAway || !handingOver) {
      return;
    }
    if (frozen) {
      reRegister(this::stayHere);
      return;
    }
    handingOver = false;
    handingOverSince = 0;
    readyToMove = false;
    connection.startDraining();
    if (stage.get() == Stage.IDLE && channel.isActive()) {
      channel.read(); // what it sends next is read here (a pending read is asked for again: no harm)
    }
  }

  /** Back on the event loop after a freeze that did not end in a move; then {@code next}, if any. */
  private void reRegister(Runnable next) {
    Runnable resumed = () -> {
      frozen = false;
      readyToMove = false;
      if (timeouts != null) {
        timeouts.resume();
      }
      if (next != null) {
        next.run();
      } else if (stage.get() == Stage.IDLE) {
        freezeWhenIdle();
      }
    };
    if (channel.isRegistered()) {
      resumed.run();
      return;
    }
    channel.eventLoop().register(channel).addListener(f -> {
      if (!f.isSuccess()) {
        channel.close();
        return;
      }
      resumed.run();
    });
  }

  /**
   * The successor holds the socket: this process closes its copy (which sends nothing: the socket
   * lives on in the successor; no shutdown(2) here) and forgets the connection.
   */
  io.netty.util.concurrent.Future<?> movedAway() {
    io.netty.util.concurrent.Promise<Void> closed = channel.eventLoop().newPromise();
    channel.eventLoop().execute(() -> {
      movedAway = true;
      readyToMove = false;
      channel.close().addListener(f -> closed.setSuccess(null));
    });
    return closed;
  }
}
