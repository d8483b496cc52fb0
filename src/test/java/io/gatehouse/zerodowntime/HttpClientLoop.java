package io.gatehouse.zerodowntime;

import io.gatehouse.zerodowntime.Tally.Kind;
import io.gatehouse.zerodowntime.Tally.Stream;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * One keep-alive HTTP/1.1 client: {@code GET /req} again and again on one connection (a new one
 * only when the server closes it), every request counted exactly once as ok or as a failure.
 */
final class HttpClientLoop implements Runnable {
  static final int TIMEOUT_MILLIS = 10_000;

  private final int port;
  private final Tally tally;
  private final Load.Control control;
  private final long pauseMillis;
  private Socket socket;
  private InputStream in;

  HttpClientLoop(int port, Tally tally, Load.Control control, long pauseMillis) {
    this.port = port;
    this.tally = tally;
    this.control = control;
    this.pauseMillis = pauseMillis;
  }

  @Override
  public void run() {
    try {
      while (control.running()) {
        boolean ok = exchange(true);
        control.pause(ok ? pauseMillis : Load.FAILURE_BACKOFF_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeConnection();
    }
  }

  /** One request; {@code mayRetry}: once, when a reused connection was closed before any response byte. */
  private boolean exchange(boolean mayRetry) {
    long start = System.nanoTime();
    tally.requestsSent.increment();
    boolean reused = socket != null;
    try {
      if (socket == null) {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
        in = new BufferedInputStream(socket.getInputStream());
      }
      try {
        socket.getOutputStream().write(ResponseHead.request("/req"));
      } catch (java.net.SocketException e) {
        throw new ResponseHead.NothingReceived(e);
      }
      ResponseHead head = ResponseHead.read(in);
      long length = head.contentLength();
      if (length < 0) {
        throw new IOException("no Content-Length");
      }
      for (long i = 0; i < length; i++) {
        if (in.read() < 0) {
          throw new EOFException("body ended at " + i + " of " + length);
        }
      }
      if (head.close()) {
        closeConnection();
      }
      if (head.status() != 200) {
        tally.fail(Stream.HTTP, Kind.BAD_STATUS, head.origin(), start, "status " + head.status());
        return false;
      }
      tally.ok(head.origin());
      return true;
    } catch (ResponseHead.NothingReceived e) {
      closeConnection();
      if (reused && mayRetry) {
        // RFC 9112 §9.3.1: a client may retry an idempotent request when the connection closed
        // before any response; this is the race of a server closing an idle keep-alive connection.
        tally.requestsSent.decrement();
        tally.requestsRetriedAfterClose.increment();
        return exchange(false);
      }
      tally.fail(Stream.HTTP, Kind.RESET, null, start, e.getMessage());
    } catch (ConnectException e) {
      closeConnection();
      tally.fail(Stream.HTTP, Kind.REFUSED, null, start, e.getMessage());
    } catch (SocketTimeoutException e) {
      closeConnection();
      tally.fail(Stream.HTTP, Kind.TIMEOUT, null, start, e.getMessage());
    } catch (IOException e) {
      closeConnection();
      tally.fail(Stream.HTTP, Kind.RESET, null, start, e.toString());
    }
    return false;
  }

  private void closeConnection() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing after a failure; nothing left to account
      }
      socket = null;
      in = null;
    }
  }
}
