package io.gatehouse.zerodowntime;

import io.gatehouse.zerodowntime.Tally.Kind;
import io.gatehouse.zerodowntime.Tally.Stream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * One client of long streaming downloads, one after another, each on a new connection: every byte
 * is checked against the origin's pattern and the count against {@code Content-Length}.
 */
final class DownloadLoop implements Runnable {
  private final int port;
  private final Tally tally;
  private final Load.Control control;
  private final String target;

  DownloadLoop(int port, Tally tally, Load.Control control, long bytes, long millis) {
    this.port = port;
    this.tally = tally;
    this.control = control;
    this.target = "/download?bytes=" + bytes + "&ms=" + millis;
  }

  @Override
  public void run() {
    try {
      while (control.running()) {
        control.pause(download() ? 0 : Load.FAILURE_BACKOFF_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean download() {
    long start = System.nanoTime();
    tally.downloadsStarted.increment();
    String origin = null;
    long received = 0;
    boolean headSeen = false;
    try (Socket socket = new Socket()) {
      socket.setSoTimeout(HttpClientLoop.TIMEOUT_MILLIS);
      socket.connect(new InetSocketAddress("127.0.0.1", port), HttpClientLoop.TIMEOUT_MILLIS);
      socket.getOutputStream().write(ResponseHead.request(target));
      InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      ResponseHead head = ResponseHead.read(in);
      headSeen = true;
      origin = head.origin();
      if (head.status() != 200) {
        tally.fail(Stream.DOWNLOAD, Kind.BAD_STATUS, origin, start, "status " + head.status());
        return false;
      }
      byte[] buffer = new byte[16 * 1024];
      while (received < head.contentLength()) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, head.contentLength() - received));
        if (n < 0) {
          break;
        }
        for (int i = 0; i < n; i++) {
          if ((buffer[i] & 0xff) != (int) ((received + i) % 251)) {
            tally.fail(Stream.DOWNLOAD, Kind.TRUNCATED, origin, start, "wrong byte at " + (received + i));
            return false;
          }
        }
        received += n;
      }
      tally.downloadBytes.add(received);
      if (received != head.contentLength()) {
        tally.fail(Stream.DOWNLOAD, Kind.TRUNCATED, origin, start,
            "ended at " + received + " of " + head.contentLength());
        return false;
      }
      tally.downloadsOk.increment();
      return true;
    } catch (ConnectException e) {
      tally.fail(Stream.DOWNLOAD, Kind.REFUSED, null, start, e.getMessage());
    } catch (SocketTimeoutException e) {
      tally.fail(Stream.DOWNLOAD, Kind.TIMEOUT, origin, start, e.getMessage());
    } catch (IOException e) {
      tally.downloadBytes.add(received);
      tally.fail(Stream.DOWNLOAD, headSeen ? Kind.TRUNCATED : Kind.RESET, origin, start,
          e + " after " + received + " bytes");
    }
    return false;
  }
}
