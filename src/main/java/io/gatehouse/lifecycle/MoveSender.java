package io.gatehouse.lifecycle;

import io.gatehouse.relay.ConnectionHandover;
import io.gatehouse.relay.ResponseMove;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handed-off process's side of moving its tunnels (CONNECT, WebSocket) and idle HTTP/1
 * keep-alive connections to the successor that took its sockets, over the hand-off connection once
 * the successor said {@code ADOPT} (see {@link HandoffSocket}): one at a time, frozen with nothing
 * in flight ({@link TunnelRelay#freeze}, {@link ConnectionHandover}), its description and
 * descriptors sent, and this process's copies closed only once the successor holds them; then the
 * successor serves it. A tunnel that does not move (TLS in this process, an end in progress, a
 * reader too slow to take what was read, a refusal) relays on here until it ends or the drain's
 * deadline, as before; a connection that does not move drains here as without a successor. Used by
 * the drain's thread; blocks.
 */
final class MoveSender {
  private static final Logger log = LoggerFactory.getLogger(MoveSender.class);
  /** How long a tunnel may take to write out what it read before it moves (else: later, or never). */
  static final Duration FREEZE_WAIT = Duration.ofMillis(200);
  /** How long an answer of the successor may take before the moves stop (it is on the same host). */
  private static final Duration ANSWER_WAIT = Duration.ofSeconds(5);
  /** Marks the end of the connection in the queue of answers. */
  private static final String CLOSED = "\0closed";

  private final Channel connection;
  private final int pid;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private volatile boolean broken;
  private int moved;
  private int movedConnections;
  private int movedResponses;
  /** Bytes for slow readers that moved responses carried (what this process had not written to them yet). */
  private long carriedBytes;
  private boolean takesConnections = true;

  MoveSender(Channel connection, int pid) {
    this.connection = connection;
    this.pid = pid;
  }

  /** An answer line of the successor (from the connection's loop). */
  void answer(String line) {
    answers.add(line);
  }

  /** The connection ended (from its loop): no tunnel moves from now on. */
  void closed() {
    broken = true;
    answers.add(CLOSED);
  }

  /** False once the successor went away or did not answer: tunnels stay here from then on. */
  boolean usable() {
    return !broken && connection.isActive();
  }

  int moved() {
    return moved;
  }

  /** What an attempt to move a tunnel came to. */
  enum Result {
    /** The successor relays it; this process's copies are closed. */
    MOVED,
    /** It relays on here for now (its bytes were not out in time): worth another try. */
    NOT_NOW,
    /** It relays on here to its end (TLS, an end in progress, refused by the successor). */
    STAYS
  }

  /** Moves {@code tunnel} to the successor, or leaves it relaying here. */
  Result move(TunnelRelay tunnel) throws InterruptedException {
    Result result = moveFrozen(() -> tunnel.freeze(FREEZE_WAIT.toNanos()), tunnel::thaw,
        record -> HandoffSocket.Moving.tunnel(record, tunnel.idleNanos()), () -> "tunnel " + HandoffSocket.describe(tunnel),
        () -> List.of(tunnel.client(), tunnel.upstream()), tunnel::movedAway);
    if (result == Result.MOVED) {
      moved++;
    }
    return result;
  }

  /**
   * Moves an idle HTTP/1 connection that took itself off its event loop ({@link
   * ConnectionHandover#readyToMove}), or leaves it here, where it drains as without a successor.
   */
  Result move(ConnectionHandover connection) throws InterruptedException {
    if (!usable()) {
      connection.stayHere();
      return Result.STAYS;
    }
    Result result = send(HandoffSocket.Moving.connection(connection), "connection " + connection.channel().remoteAddress(),
        List.of(connection.channel()), connection::stayHere, connection::movedAway);
    if (result == Result.MOVED) {
      movedConnections++;
    }
    return result;
  }

  /**
   * Moves a response in flight with its connection ({@link ResponseMove}), or leaves it going
   * on here: NOT_NOW when it could not be frozen now (none in flight, framing mid-line). It is
   * frozen at once, without waiting for its client to take what was read: those bytes travel with
   * it (a slow reader's would wait for the kernel to let the writer on, which at a few KB/s takes
   * minutes), and the drain's thread moves on.
   */
  Result move(ResponseMove response) throws InterruptedException {
    long[] carrying = {0};
    Result result = moveFrozen(response::freeze, response::thaw, frozen -> {
          carrying[0] = frozen.unsent() == null ? 0 : frozen.unsent().length;
          return HandoffSocket.Moving.response(frozen);
        },
        () -> "response in flight to " + response.client().remoteAddress(),
        () -> List.of(response.client(), response.upstream()), response::movedAway);
    if (result == Result.MOVED) {
      movedConnections++;
      movedResponses++;
      carriedBytes += carrying[0];
    }
    return result;
  }

  long carriedBytes() {
    return carriedBytes;
  }

  /**
   * A tunnel's or a response's move: freezes it and waits for that (an event loop that does not
   * answer stops the moves), NOT_NOW when it did not freeze now, else sends it.
   *
   * @param describe what goes on the TUNNEL line, from what the freeze completed with
   * @param sockets the descriptors to send, known once frozen
   */
  private <T> Result moveFrozen(Supplier<Future<T>> freeze, Runnable thaw, Function<T, HandoffSocket.Moving> describe,
      Supplier<String> description, Supplier<List<Channel>> sockets, Supplier<Future<?>> closeHere)
      throws InterruptedException {
    if (!usable()) {
      return Result.STAYS;
    }
    Future<T> frozen = freeze.get();
    if (!frozen.await(FREEZE_WAIT.toMillis() + 1000) || !frozen.isSuccess()) {
      return giveUp(thaw, "its event loop did not answer");
    }
    if (frozen.getNow() == null) {
      return Result.NOT_NOW;
    }
    return send(describe.apply(frozen.getNow()), description.get(), sockets.get(), thaw, closeHere);
  }

  int movedResponses() {
    return movedResponses;
  }

  /** Whether the successor took every connection offered so far (an earlier version refuses them all). */
  boolean takesConnections() {
    return takesConnections;
  }

  int movedConnections() {
    return movedConnections;
  }

  /**
   * The exchange for one frozen connection: its line, its descriptors, and this process's copies
   * closed ({@code closeHere}) once the successor holds them; {@code stay} puts it back to work here.
   */
  private Result send(HandoffSocket.Moving moving, String description, List<Channel> sockets, Runnable stay,
      Supplier<Future<?>> closeHere) throws InterruptedException {
    for (Channel socket : sockets) {
      if (!socket.isOpen()) {
        stay.run(); // closed here meanwhile (a client's reset): nothing to send
        return Result.STAYS;
      }
    }
    try {
      connection.writeAndFlush(HandoffSocket.TUNNEL + " " + HandoffSocket.encode(moving) + "\n");
      String ask = next();
      if (ask.startsWith(HandoffSocket.REFUSED)) {
        return refused(moving, stay, description, ask);
      }
      if (!ask.equals(HandoffSocket.SEND)) {
        return giveUp(stay, "it answered '" + ask + "' (expected: SEND)");
      }
      ChannelFuture sent = null;
      for (Channel socket : sockets) {
        sent = connection.write(((UnixChannel) socket).fd()); // SCM_RIGHTS: the successor's own descriptors
      }
      connection.flush();
      if (!sent.await(ANSWER_WAIT.toMillis()) || !sent.isSuccess()) {
        return giveUp(stay, "the descriptors could not be sent ("
            + (sent.cause() == null ? "no answer within " + ANSWER_WAIT.toMillis() + " ms" : sent.cause().toString()) + ")");
      }
      String ready = next();
      if (ready.startsWith(HandoffSocket.REFUSED)) {
        return refused(moving, stay, description, ready); // it closed its copies: the sockets are as they were
      }
      if (!ready.equals(HandoffSocket.READY)) {
        return giveUp(stay, "it answered '" + ready + "' (expected: READY)");
      }
    } catch (AnswerMissing e) {
      return giveUp(stay, e.getMessage());
    }
    // The successor holds the descriptors: ours close (that sends nothing), then it serves them.
    closeHere.get().await(ANSWER_WAIT.toMillis());
    connection.writeAndFlush(HandoffSocket.MOVED + "\n");
    log.debug("hand-off: {} moved to pid {}", description, pid);
    return Result.MOVED;
  }

  /** The successor said REFUSED: the connection stays here. */
  private Result refused(HandoffSocket.Moving moving, Runnable stay, String description, String answer) {
    stay.run();
    String why = answer.substring(HandoffSocket.REFUSED.length()).trim();
    if (moving.kind() != null && why.startsWith(HandoffClient.UNPARSED)) {
      // A successor of the version before connections moved: it takes tunnels only.
      takesConnections = false;
      log.info("hand-off: pid {} does not take HTTP/1 connections over (an earlier version); they close here as"
          + " they drain", pid);
      return Result.STAYS;
    }
    log.warn("hand-off: pid {} refused {}: {}; it stays here", pid, description, why);
    return Result.STAYS;
  }

  /** Tells the successor nothing more comes. */
  void finish() {
    if (connection.isActive()) {
      connection.writeAndFlush(HandoffSocket.END + "\n").awaitUninterruptibly(1, TimeUnit.SECONDS);
      connection.close();
    }
  }

  /**
   * The successor stopped answering as it should: the tunnel relays on here, and so do all others;
   * closing the connection tells the successor to close any copies it holds without relaying them.
   */
  private Result giveUp(Runnable stay, String why) {
    broken = true;
    stay.run();
    connection.close();
    log.warn("hand-off: moving tunnels and connections to pid {} stopped: {}; what is left stays here (tunnels until"
        + " they end or the drain's deadline; keep-alive connections drain)", pid, why);
    return Result.STAYS;
  }

  private String next() throws InterruptedException, AnswerMissing {
    String line = answers.poll(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    if (line == null) {
      throw new AnswerMissing("no answer within " + ANSWER_WAIT.toMillis() + " ms");
    }
    if (line == CLOSED) {
      throw new AnswerMissing("the connection closed");
    }
    return line;
  }

  private static final class AnswerMissing extends Exception {
    AnswerMissing(String message) {
      super(message);
    }
  }
}
