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
 * slowing the proxy down.
 */
final class AccessLogWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLogWriter.class);
  private static final int CAPACITY = 64 * 1024;

  private final Queue<String> queue = PlatformDependent.newMpscQueue(CAPACITY);
  private final LongAdder dropped = new LongAdder();
  private final Writer out;
  private final Thread thread;
  private volatile boolean running = true;

  /** @param path a file (appended to), or {@code -} for stdout */
  AccessLogWriter(String path) throws IOException {
    this.out = "-".equals(path)
        ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 64 * 1024)
        : Files.newBufferedWriter(Path.of(path), StandardCharsets.UTF_8,
            StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    this.thread = new Thread(this::run, "gatehouse-access-log");
    thread.setDaemon(true);
    thread.start();
  }

  void write(String line) {
    if (!queue.offer(line)) {
      dropped.increment();
    }
  }

  long dropped() {
    return dropped.sum();
  }

  private void run() {
    try {
      while (running || !queue.isEmpty()) {
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
