package io.gatehouse.lifecycle;

import io.gatehouse.relay.ExchangeRecord;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handed-off process's side of moving its tunnels (CONNECT, WebSocket) to the successor that
 * took its sockets, over the hand-off connection once the successor said {@code ADOPT} (see
 * {@link HandoffSocket}): one tunnel at a time, frozen with nothing in flight ({@link
 * TunnelRelay#freeze}), its record and both descriptors sent, and this process's copies closed only
 * once the successor holds them; then the successor relays it. A tunnel that does not move (TLS in
 * this process, an end in progress, a reader too slow to take what was read, a refusal) relays on
 * here until it ends or the drain's deadline, as before. Used by the drain's thread; blocks.
 */
final class TunnelSender {
  private static final Logger log = LoggerFactory.getLogger(TunnelSender.class);
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

  TunnelSender(Channel connection, int pid) {
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
    if (!usable()) {
      return Result.STAYS;
    }
    Future<ExchangeRecord> frozen = tunnel.freeze(FREEZE_WAIT.toNanos());
    if (!frozen.await(FREEZE_WAIT.toMillis() + 1000) || !frozen.isSuccess()) {
      return giveUp(tunnel, "its event loop did not answer");
    }
    ExchangeRecord record = frozen.getNow();
    if (record == null) {
      return Result.NOT_NOW;
    }
    String description = HandoffSocket.describe(tunnel);
    try {
      connection.writeAndFlush(HandoffSocket.TUNNEL + " " + HandoffSocket.encode(record, tunnel.idleNanos()) + "\n");
      String ask = next();
      if (ask.startsWith(HandoffSocket.REFUSED)) {
        return refused(tunnel, description, ask);
      }
      if (!ask.equals(HandoffSocket.SEND)) {
        return giveUp(tunnel, "it answered '" + ask + "' (expected: SEND)");
      }
      connection.write(((UnixChannel) tunnel.client()).fd()); // SCM_RIGHTS: the successor's own descriptors
      ChannelFuture sent = connection.writeAndFlush(((UnixChannel) tunnel.upstream()).fd());
      if (!sent.await(ANSWER_WAIT.toMillis()) || !sent.isSuccess()) {
        return giveUp(tunnel, "the descriptors could not be sent");
      }
      String ready = next();
      if (ready.startsWith(HandoffSocket.REFUSED)) {
        return refused(tunnel, description, ready); // it closed its copies: the sockets are as they were
      }
      if (!ready.equals(HandoffSocket.READY)) {
        return giveUp(tunnel, "it answered '" + ready + "' (expected: READY)");
      }
    } catch (AnswerMissing e) {
      return giveUp(tunnel, e.getMessage());
    }
    // The successor holds both descriptors: ours close (that sends nothing), then it relays.
    tunnel.movedAway().await(ANSWER_WAIT.toMillis());
    connection.writeAndFlush(HandoffSocket.MOVED + "\n");
    moved++;
    log.debug("hand-off: tunnel {} moved to pid {}", description, pid);
    return Result.MOVED;
  }

  /** The successor said REFUSED: the tunnel relays on here. */
  private Result refused(TunnelRelay tunnel, String description, String answer) {
    tunnel.thaw();
    log.warn("hand-off: pid {} refused tunnel {}: {}; it stays here", pid, description,
        answer.substring(HandoffSocket.REFUSED.length()).trim());
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
  private Result giveUp(TunnelRelay tunnel, String why) {
    broken = true;
    tunnel.thaw();
    connection.close();
    log.warn("hand-off: moving tunnels to pid {} stopped: {}; the tunnels left stay here until they end or the"
        + " drain's deadline", pid, why);
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
