package io.gatehouse.relay;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.Queue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What splice(2) through Netty's {@link AbstractEpollStreamChannel#spliceTo} needs besides the call:
 * how far a splice got, and the bytes Netty leaves in the socket when it reports the end of input.
 *
 * <p>Progress: {@code spliceTo} reports only when its whole length has moved, so the bytes of the
 * splice in progress are read from the channel's queued splice task (its remaining {@code len}).
 * That is what keeps the access log's byte counts exact and lets the idle timeout see a spliced
 * tunnel move. Those are Netty internals (4.2.18): when they cannot be read (another Netty
 * version), {@link #possible} says no and tunnels copy, as they do for TLS.
 *
 * <p>The rest of the input: on EPOLLRDHUP, Netty's splice path runs one splice pass (at most a
 * pipe's worth, 64 KiB) and then shuts the input down and fires the input-shutdown event, whatever
 * the socket still holds. Linux keeps returning queued bytes after {@code shutdown(SHUT_RD)}, so the
 * relay reads them itself from the socket's descriptor ({@link #read}) until the EOF.
 */
final class SpliceCounter {
  private static final Logger log = LoggerFactory.getLogger(SpliceCounter.class);
  private static final Field QUEUE;
  private static final Field LEN;

  static {
    Field queue = null;
    Field len = null;
    try {
      queue = AbstractEpollStreamChannel.class.getDeclaredField("spliceQueue");
      queue.setAccessible(true);
      len = Class.forName(AbstractEpollStreamChannel.class.getName() + "$SpliceInTask").getDeclaredField("len");
      len.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      log.warn("splice(2) for tunnels is off: this Netty version does not let its progress be read ({}); tunnels copy",
          e.toString());
      queue = null;
      len = null;
    }
    QUEUE = queue;
    LEN = len;
  }

  private SpliceCounter() {}

  /**
   * Both ends are epoll sockets, and nothing in the proxy reads the bytes on their way (no TLS):
   * a splice bypasses both pipelines.
   */
  static boolean possible(Channel a, Channel b) {
    return QUEUE != null && plainSockets(a, b);
  }

  /** Both are epoll sockets whose bytes no handler of this process transforms (no TLS). */
  static boolean plainSockets(Channel a, Channel b) {
    return a instanceof AbstractEpollStreamChannel && b instanceof AbstractEpollStreamChannel
        && a.pipeline().get(SslHandler.class) == null && b.pipeline().get(SslHandler.class) == null;
  }

  /**
   * Nothing waits in the channel's outbound buffer: no bytes, and no splice of a pipe's bytes to
   * the socket (Netty queues those there as a task until they are all out). Call on its loop.
   */
  static boolean nothingQueued(Channel ch) {
    io.netty.channel.ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
    return out != null && out.isEmpty() && out.totalPendingWriteBytes() == 0;
  }

  /**
   * Bytes spliced in so far by the splice of {@code length} bytes that {@code source} is running:
   * its queued task's progress, or all of {@code length} once the task has left the queue (its last
   * bytes are being written out). Call on the channel's event loop, while the channel is open.
   */
  static long inProgress(AbstractEpollStreamChannel source, int length) {
    try {
      Queue<?> queue = (Queue<?>) QUEUE.get(source);
      Object task = queue == null ? null : queue.peek();
      return task == null ? length : length - LEN.getInt(task);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e); // checked accessible in the static initializer
    }
  }

  /**
   * Reads what the socket of {@code source} holds into {@code buf}: bytes read (> 0), or -1 at the
   * end of input (0 from read(2)) or when nothing is there (EAGAIN: after the peer's FIN, nothing
   * more can come). The channel's input is shut down in Netty, which reads it no more.
   */
  static int read(AbstractEpollStreamChannel source, ByteBuf buf) throws IOException {
    ByteBuffer nio = buf.internalNioBuffer(buf.writerIndex(), buf.writableBytes());
    int n = source.fd().read(nio, nio.position(), nio.limit());
    if (n > 0) {
      buf.writerIndex(buf.writerIndex() + n);
      return n;
    }
    return -1;
  }
}
