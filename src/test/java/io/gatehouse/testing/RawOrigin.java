package io.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An origin that answers every request head with the same fixed bytes, then half-closes and waits
 * for the proxy to close, and keeps each request head it received ({@link #nextHead}): for byte-exact upstream responses that {@link FakeUpstream} would never
 * write (misbehaving origins, odd but valid heads). One connection at a time, on a daemon thread.
 */
public final class RawOrigin implements AutoCloseable {
  private final ServerSocket server;
  private final java.util.concurrent.BlockingQueue<String> heads = new java.util.concurrent.LinkedBlockingQueue<>();

  public RawOrigin(String response) throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread thread = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket socket = server.accept()) {
          socket.setSoTimeout(5000);
          heads.add(readHead(socket.getInputStream()));
          socket.getOutputStream().write(response.getBytes(StandardCharsets.ISO_8859_1));
          socket.getOutputStream().flush();
          socket.shutdownOutput();
          while (socket.getInputStream().read() >= 0) {
            // wait for the proxy to close
          }
        } catch (IOException e) {
          // next connection
        }
      }
    }, "raw-origin");
    thread.setDaemon(true);
    thread.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** The next request head received (as ISO-8859-1 text, through its empty line), waiting up to 5 s. */
  public String nextHead() throws InterruptedException {
    String head = heads.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    if (head == null) {
      throw new AssertionError("no request head reached the origin");
    }
    return head;
  }

  /** Reads up to and including the CRLF CRLF that ends a head, byte by byte (nothing read past it). */
  public static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed in the head: " + head);
      }
      head.append((char) b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toString();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
