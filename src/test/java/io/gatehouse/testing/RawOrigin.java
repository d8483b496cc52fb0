package io.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An origin that answers every request head with the same fixed bytes, then half-closes and waits
 * for the proxy to close: for byte-exact upstream responses that {@link FakeUpstream} would never
 * write (misbehaving origins, odd but valid heads). One connection at a time, on a daemon thread.
 */
public final class RawOrigin implements AutoCloseable {
  private final ServerSocket server;

  public RawOrigin(String response) throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread thread = new Thread(() -> {
      while (!server.isClosed()) {
        try (Socket socket = server.accept()) {
          socket.setSoTimeout(5000);
          readHead(socket.getInputStream());
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

  /** Reads up to and including the CRLF CRLF that ends a request head. */
  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed");
      }
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
