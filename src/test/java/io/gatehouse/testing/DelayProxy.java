package io.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on 127.0.0.1 and a free port that holds every chunk of bytes for a fixed delay in
 * each direction before passing it on, in order: a far-away or slow peer (a Redis across a WAN, or
 * one on a saturated machine) without slowing the peer itself. Pipelined commands each take
 * {@code 2 x delay} more, as over a long link, rather than queueing behind each other.
 *
 * <pre>{@code
 * try (DelayProxy slow = DelayProxy.start(redis.port(), Duration.ofMillis(20))) {
 *   String uri = "redis://127.0.0.1:" + slow.port();
 * }
 * }</pre>
 *
 * <p>Plain threads (two per direction of each connection), daemons, all stopped by {@link #close}.
 */
public final class DelayProxy implements AutoCloseable {
  private static final byte[] END = new byte[0];

  private final ServerSocket server;
  private final int target;
  private final long delayNanos;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private DelayProxy(ServerSocket server, int target, Duration delay) {
    this.server = server;
    this.target = target;
    this.delayNanos = delay.toNanos();
  }

  /** Relays to 127.0.0.1:{@code targetPort}, each direction {@code delay} late. */
  public static DelayProxy start(int targetPort, Duration delay) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    DelayProxy proxy = new DelayProxy(server, targetPort, delay);
    daemon("delay-proxy-accept", proxy::accept);
    return proxy;
  }

  public int port() {
    return server.getLocalPort();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket();
        upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 5_000);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        pipe(client, upstream);
        pipe(upstream, client);
      } catch (IOException e) {
        // closed, or the target refused: the client sees its connection close
      }
    }
  }

  private record Chunk(long dueNanos, byte[] bytes) {}

  private void pipe(Socket from, Socket to) throws IOException {
    InputStream in = from.getInputStream();
    OutputStream out = to.getOutputStream();
    BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
    daemon("delay-proxy-read", () -> {
      byte[] buffer = new byte[16384];
      try {
        int n;
        while ((n = in.read(buffer)) > 0) {
          queue.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buffer, n)));
        }
      } catch (IOException e) {
        // the socket closed
      }
      queue.add(new Chunk(System.nanoTime() + delayNanos, END));
    });
    daemon("delay-proxy-write", () -> {
      try {
        while (true) {
          Chunk c = queue.take();
          long wait = c.dueNanos - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (c.bytes == END) {
            to.shutdownOutput();
            return;
          }
          out.write(c.bytes);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        closeQuietly(from);
        closeQuietly(to);
      }
    });
  }

  private static void daemon(String name, Runnable task) {
    Thread t = new Thread(task, name);
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    sockets.forEach(DelayProxy::closeQuietly);
  }
}
