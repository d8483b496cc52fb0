package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.GeneratedBody;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawOrigin;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Backpressure (writability drives autoRead): a 100 MiB body crosses the proxy while the receiving
 * side stops reading, and the proxy's direct memory stays bounded. The receiver first stalls (long
 * enough for an unthrottled proxy to buffer everything it can read), then reads the rest.
 */
@Isolated("measures the JVM's direct memory")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class BackpressureTest {
  private static final long BODY = 100L * 1024 * 1024;
  private static final long BOUND = 32L * 1024 * 1024;
  private static final Duration STALL = Duration.ofMillis(1500);

  /** Direct memory in use: Netty's own counter (no-cleaner buffers) plus the JDK's direct buffer pool. */
  static long directMemory() {
    long netty = Math.max(0, PlatformDependent.usedDirectMemory());
    long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct"))
        .mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    return netty + jdk;
  }

  /** Samples direct memory every few milliseconds and keeps the peak. */
  private static final class PeakSampler implements AutoCloseable {
    private final AtomicLong peak = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    PeakSampler() {
      thread = new Thread(() -> {
        while (running) {
          peak.accumulateAndGet(directMemory(), Math::max);
          try {
            Thread.sleep(2); // a sampling period, not synchronization
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "direct-memory-sampler");
      thread.setDaemon(true);
      thread.start();
    }

    long peak() {
      return peak.get();
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(1000);
    }
  }

  @Test
  void slow_client_does_not_make_the_proxy_buffer_a_large_response() throws Exception {
    try (FakeUpstream upstream = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: origin } ]
            clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
            """, Map.of("ORIGIN", upstream.address()))) {
      upstream.respond(head -> Reply.stream(BODY));
      System.gc();
      long baseline = directMemory();
      try (PeakSampler sampler = new PeakSampler();
          Socket socket = new Socket()) {
        socket.setReceiveBufferSize(64 * 1024);
        socket.setSoTimeout(10_000);
        socket.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
        OutputStream out = socket.getOutputStream();
        out.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = socket.getInputStream();
        String head = RawOrigin.readHead(in);
        assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: " + BODY);

        byte[] buffer = new byte[64 * 1024];
        long received = readAndVerify(in, buffer, 0, 1024 * 1024);
        // The reader stalls; an unthrottled proxy would now pull the whole body from the upstream.
        await().during(STALL).atMost(STALL.plusSeconds(5)).pollInterval(Duration.ofMillis(20))
            .until(() -> directMemory() - baseline < BOUND);
        received = readAndVerify(in, buffer, received, BODY);
        assertThat(received).isEqualTo(BODY);
        assertThat(sampler.peak() - baseline).as("peak direct memory above baseline").isLessThan(BOUND);
      }
    }
  }

  @Test
  void slow_upstream_does_not_make_the_proxy_buffer_a_large_upload() throws Exception {
    try (StallingOrigin origin = new StallingOrigin();
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: origin } ]
            clusters: [ { name: origin, endpoints: ["127.0.0.1:${PORT}"], timeouts: { response: 30s } } ]
            limits: { maxBodyBytes: 200MiB, idleTimeout: 500ms } # shorter than the stall: held-back reads are no slow body
            """, Map.of("PORT", Integer.toString(origin.port())))) {
      System.gc();
      long baseline = directMemory();
      try (PeakSampler sampler = new PeakSampler();
          RawHttpClient client = RawHttpClient.connect("127.0.0.1", proxy.port(), Duration.ofSeconds(30))) {
        client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + BODY + "\r\n\r\n");
        AtomicLong sent = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
          byte[] chunk = new byte[64 * 1024];
          Arrays.fill(chunk, (byte) 'u');
          try {
            while (sent.get() < BODY) {
              int n = (int) Math.min(chunk.length, BODY - sent.get());
              client.socket().getOutputStream().write(chunk, 0, n);
              sent.addAndGet(n);
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
        origin.headReceived.await(10, TimeUnit.SECONDS);
        // The origin reads nothing of the body yet: the proxy must stop reading the client.
        await().during(STALL).atMost(STALL.plusSeconds(5)).pollInterval(Duration.ofMillis(20))
            .until(() -> directMemory() - baseline < BOUND);
        assertThat(sent.get()).as("the client is held back, not buffered").isLessThan(BODY / 2);
        origin.resume.countDown();
        writer.get(60, TimeUnit.SECONDS);
        RawResponse response = client.readResponse();
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyAsString()).isEqualTo(Long.toString(BODY));
        assertThat(sampler.peak() - baseline).as("peak direct memory above baseline").isLessThan(BOUND);
      }
    }
  }


  /** Reads until {@code until} bytes of the body have arrived, checking each against the pattern. */
  private static long readAndVerify(InputStream in, byte[] buffer, long from, long until) throws IOException {
    long position = from;
    while (position < until) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, until - position));
      if (n < 0) {
        throw new IOException("body ended after " + position + " bytes");
      }
      for (int i = 0; i < n; i += 997) {
        if (buffer[i] != GeneratedBody.byteAt(position + i)) {
          throw new AssertionError("body differs at byte " + (position + i));
        }
      }
      position += n;
    }
    return position;
  }

  /**
   * A raw origin that reads a request head, then reads no body until {@link #resume} opens, then
   * counts the body and answers 200 with the count. Small receive buffer, so stalling bites soon.
   */
  private static final class StallingOrigin implements AutoCloseable {
    final CountDownLatch headReceived = new CountDownLatch(1);
    final CountDownLatch resume = new CountDownLatch(1);
    private final ServerSocket server;
    private final Thread thread;

    StallingOrigin() throws IOException {
      server = new ServerSocket();
      server.setReceiveBufferSize(64 * 1024);
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      thread = new Thread(this::serve, "stalling-origin");
      thread.setDaemon(true);
      thread.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void serve() {
      try (Socket socket = server.accept()) {
        socket.setSoTimeout(60_000);
        InputStream in = socket.getInputStream();
        String head = RawOrigin.readHead(in);
        long length = 0;
        for (String line : head.split("\r\n")) {
          if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
            length = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
        headReceived.countDown();
        if (!resume.await(60, TimeUnit.SECONDS)) {
          return;
        }
        byte[] buffer = new byte[64 * 1024];
        long count = 0;
        while (count < length) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - count));
          if (n < 0) {
            break;
          }
          count += n;
        }
        String body = Long.toString(count);
        socket.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length()
            + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
      } catch (IOException | InterruptedException e) {
        // the test fails on its own assertions; nothing to add here
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      thread.interrupt();
    }
  }
}
