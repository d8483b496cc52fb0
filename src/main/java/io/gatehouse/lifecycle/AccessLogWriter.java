package io.gatehouse.lifecycle;

import io.netty.util.internal.PlatformDependent;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes access-log lines to a file or stdout from its own thread. Event loops only enqueue into a
 * lock-free bounded queue; when the disk cannot keep up, lines are dropped and counted rather than
 * slowing the proxy down. {@link #reopen} (SIGUSR1, reload) makes that thread close the file and
 * open the path again, so an external rotation (logrotate's rename, then a signal) takes effect
 * without a lock on the event loops.
 */
final class AccessLogWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);
  private static final int CAPACITY = 64 * 1024;

  private final Queue<String> queue = PlatformDependent.newMpscQueue(CAPACITY);
  private final LongAdder dropped = new LongAdder();
  /** null for stdout */
  private final Path file;
  /** Only the writer thread touches it after construction. */
  private Writer out;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile boolean reopenRequested;

  /** @param path a file (appended to), or {@code -} for stdout */
  AccessLogWriter(String path) throws IOException {
    this.file = "-".equals(path) ? null : Path.of(path);
    this.out = file == null
        ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 64 * 1024)
        : open(file);
    this.thread = new Thread(this::run, "gatehouse-access-log");
    thread.setDaemon(true);
    thread.start();
  }

  void write(String line) {
    if (!queue.offer(line)) {
      dropped.increment();
    }
  }

  /**
   * Asks the writer thread to flush, close the file and open its path again (a new file if the old
   * one was renamed). Lines queued before the call may land in either file; none is lost. No-op
   * for stdout.
   */
  void reopen() {
    if (file != null) {
      reopenRequested = true;
      LockSupport.unpark(thread);
    }
  }

  private static Writer open(Path file) throws IOException {
    return Files.newBufferedWriter(file, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
  }

  /** On the writer thread. A path that cannot be opened keeps the old file (and says why). */
  private void reopenNow() throws IOException {
    reopenRequested = false;
    out.flush();
    Writer next;
    try {
      next = open(file);
    } catch (IOException e) {
      log.warn("access log: cannot reopen {}, still writing to the previous file: {}", file, e.toString());
      return;
    }
    out.close();
    out = next;
    log.info("access log reopened: {}", file);
  }

  long dropped() {
    return dropped.sum();
  }

  private void run() {
    try {
      while (running || !queue.isEmpty()) {
        if (reopenRequested) {
          reopenNow();
        }
        String line = queue.poll();
        if (line == null) {
          out.flush();
          LockSupport.parkNanos(2_000_000);
          continue;
        }
        out.write(line);
        out.write('\n');
      }
      out.flush();
    } catch (IOException e) {
      log.warn("access log stopped: {}", e.toString());
    }
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
