package io.gatehouse.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.Errors;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a listening socket, ahead of Netty's acceptor: what to do when {@code accept(2)} fails. The
 * usual cause is the process's (EMFILE) or the system's (ENFILE) descriptor limit; the waiting
 * connections stay in the kernel's backlog, so accepting pauses and tries again, as nginx and
 * Netty's own acceptor do. This handler makes that quiet and bounded: one warning line per socket
 * every {@link ConnectionErrors#LOG_INTERVAL_NANOS} with how many failures it left out
 * ({@link LogWindow}, as for failed handshakes), never a stack trace per failure (Netty's default: a warning with a stack trace each second, for as long as the
 * limit holds).
 *
 * <p>With a {@link Spare} (the hand-off socket): the one moment a process at its limit must still
 * accept is a successor's takeover, which is how an operator restarts it with a higher limit. The
 * spare is a descriptor held from the start and given up at the first EMFILE, so the successor's
 * connection gets its number; the hand-off needs no other descriptor in this process (it sends its
 * sockets, it opens none).
 */
public sealed class AcceptErrors extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AcceptErrors.class);
  /** How long accepting pauses after a failure: the descriptor table does not free up sooner by spinning. */
  static final long PAUSE_MILLIS = 1000;
  /** After giving up the spare: the next accept may have the freed descriptor at once. */
  static final long PAUSE_AFTER_SPARE_MILLIS = 10;
  private static final int EMFILE = 24;
  private static final int ENFILE = 23;

  private final String socket;
  private final Spare spare;
  private final LogWindow warnings = new LogWindow(System::nanoTime, ConnectionErrors.LOG_INTERVAL_NANOS);

  /**
   * For a socket without a spare: it sees the failures only (an accepted connection passes it by:
   * Netty skips a handler for the events it does not override).
   *
   * @param socket names the socket in the log line ("listener web", "the admin API")
   */
  public static AcceptErrors of(String socket) {
    return new AcceptErrors(socket, null);
  }

  /** For a socket that gives {@code spare} up at the limit, and takes it again after an accept. */
  public static AcceptErrors withSpare(String socket, Spare spare) {
    return new WithSpare(socket, spare);
  }

  private AcceptErrors(String socket, Spare spare) {
    this.socket = socket;
    this.spare = spare;
  }

  private static final class WithSpare extends AcceptErrors {
    WithSpare(String socket, Spare spare) {
      super(socket, spare);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      super.spare.retake(); // an accept succeeded: hold a spare again if the limit allows
      ctx.fireChannelRead(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof IOException)) {
      ctx.fireExceptionCaught(cause);
      return;
    }
    long pause = PAUSE_MILLIS;
    boolean outOfDescriptors = outOfDescriptors(cause);
    if (outOfDescriptors && spare != null && spare.release()) {
      log.warn("{}: out of file descriptors ({}); gave up the spare one so that it can accept", socket,
          ConnectionErrors.describe(cause));
      pause = PAUSE_AFTER_SPARE_MILLIS;
    } else {
      long suppressed = warnings.admit();
      if (suppressed >= 0) {
        log.warn("{}: cannot accept connections: {}{}; the connections wait in the backlog, accepting again every {}"
            + " ms{}", socket, ConnectionErrors.describe(cause), LogWindow.more(suppressed), PAUSE_MILLIS,
            outOfDescriptors ? " (raise the descriptor limit, e.g. LimitNOFILE, or limits.maxConnections below it)" : "");
      }
    }
    // Stop reading the socket for the pause (the epoll interest is removed), then read again: the
    // interest added back reports the connections already waiting.
    ctx.channel().config().setAutoRead(false);
    ctx.executor().schedule(() -> ctx.channel().config().setAutoRead(true), pause, TimeUnit.MILLISECONDS);
  }

  private static boolean outOfDescriptors(Throwable cause) {
    if (cause instanceof Errors.NativeIoException e) {
      return e.expectedErr() == -EMFILE || e.expectedErr() == -ENFILE;
    }
    String message = cause.getMessage();
    return message != null && message.contains("Too many open files");
  }

  /**
   * One descriptor held in reserve (open on {@code /dev/null}). Used by the socket's event loop, and
   * closed by whoever closes the socket: synchronized (a takeover's accept, not the data path).
   */
  public static final class Spare implements AutoCloseable {
    private FileChannel held;

    /** Takes the spare descriptor now (at start-up, far from any limit). */
    public Spare() {
      retake();
    }

    /** Gives the descriptor up; false when none was held. */
    synchronized boolean release() {
      if (held == null) {
        return false;
      }
      closeQuietly();
      return true;
    }

    /** Holds a descriptor again if none is held and the limit allows one. */
    synchronized void retake() {
      if (held != null) {
        return;
      }
      try {
        held = FileChannel.open(Path.of("/dev/null"));
      } catch (IOException | UnsupportedOperationException e) {
        held = null; // at the limit still: the next accept tries again
      }
    }

    @Override
    public synchronized void close() {
      closeQuietly();
    }

    private void closeQuietly() {
      try {
        if (held != null) {
          held.close();
        }
      } catch (IOException e) {
        // closing /dev/null does not fail; nothing to tell
      } finally {
        held = null;
      }
    }
  }
}
