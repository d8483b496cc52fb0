package io.gatehouse.zerodowntime;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** The status line and the few header fields the load clients need, read byte by byte (RFC 9112 §2-4). */
record ResponseHead(int status, long contentLength, String origin, boolean close) {
  private static final int MAX_HEAD = 16 * 1024;

  /**
   * Reads one response head. {@link NothingReceived} when the stream ends before its first byte:
   * the server closed the connection without answering.
   */
  static ResponseHead read(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    try {
      b = in.read();
    } catch (java.net.SocketException e) {
      throw new NothingReceived(e); // reset before the first byte: closed without answering
    }
    for (; b != -1; b = in.read()) {
      head.append((char) b);
      int n = head.length();
      if (n >= 4 && head.charAt(n - 1) == '\n' && head.charAt(n - 2) == '\r' && head.charAt(n - 3) == '\n') {
        return parse(head.toString());
      }
      if (n > MAX_HEAD) {
        throw new IOException("response head over " + MAX_HEAD + " bytes");
      }
    }
    if (head.length() == 0) {
      throw new NothingReceived();
    }
    throw new EOFException("connection closed inside the response head");
  }

  private static ResponseHead parse(String head) throws IOException {
    String[] lines = head.split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP/1.x status line: " + lines[0]);
    }
    long length = -1;
    String origin = null;
    boolean close = statusLine[0].equals("HTTP/1.0");
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "x-origin" -> origin = value;
        case "connection" -> close = value.toLowerCase(Locale.ROOT).contains("close");
        default -> { }
      }
    }
    return new ResponseHead(Integer.parseInt(statusLine[1]), length, origin, close);
  }

  static byte[] request(String target) {
    return ("GET " + target + " HTTP/1.1\r\nHost: app.test\r\nUser-Agent: zero-downtime\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  /** The connection ended before any byte of a response. */
  static final class NothingReceived extends EOFException {
    NothingReceived() {
      super("connection closed before any response byte");
    }

    NothingReceived(java.net.SocketException cause) {
      super("connection reset before any response byte: " + cause.getMessage());
      initCause(cause);
    }
  }
}
