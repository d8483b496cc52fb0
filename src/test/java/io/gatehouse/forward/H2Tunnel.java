package io.gatehouse.forward;

import io.gatehouse.testing.RawH2Client;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One CONNECT stream (RFC 9113 §8.5) over a {@link RawH2Client}, from the client's side, with the
 * flow control a real client keeps: DATA are sent only within the stream's and the connection's
 * windows (§6.9), and what is received is given back with WINDOW_UPDATE as it is read (a client that
 * stops reading gives nothing back, as a slow reader).
 * Single-threaded: while it cannot send it reads, so both directions move.
 */
final class H2Tunnel {
  private static final int DEFAULT_WINDOW = 65_535;
  private static final int MAX_FRAME = 16_384;

  private final RawH2Client client;
  private final int streamId;
  private long connectionWindow = DEFAULT_WINDOW;
  private long streamWindow = DEFAULT_WINDOW;
  private int initialWindow = DEFAULT_WINDOW;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private boolean ended;
  private RawH2Client.Frame reset;
  /** DATA bytes sent so far; read from another thread while {@link #send} waits for a window. */
  private volatile long sent;

  H2Tunnel(RawH2Client client, int streamId) {
    this.client = client;
    this.streamId = streamId;
  }

  /** Sends the CONNECT's HEADERS (no END_STREAM: the stream stays open for the tunnel). */
  H2Tunnel connect(String authority, String... extraFields) throws IOException {
    var fields = RawH2Client.fields(":method", "CONNECT", ":authority", authority);
    fields.addAll(RawH2Client.fields(extraFields));
    client.headers(streamId, false, fields);
    return this;
  }

  /** Reads until the response HEADERS of this stream and returns its status. */
  String awaitStatus() throws IOException {
    while (true) {
      RawH2Client.Frame f = readOne();
      if (f.type() == RawH2Client.HEADERS && f.streamId() == streamId) {
        return f.headers().status().toString();
      }
      if (reset != null) {
        throw new AssertionError("stream reset before its response: " + reset);
      }
    }
  }

  /** Sends {@code bytes} within the windows (reading meanwhile), then END_STREAM when {@code end}. */
  void send(byte[] bytes, boolean end) throws IOException {
    int offset = 0;
    while (offset < bytes.length) {
      long window = Math.min(connectionWindow, streamWindow);
      if (window <= 0) {
        readOne();
        if (reset != null) {
          throw new AssertionError("stream reset while sending: " + reset);
        }
        continue;
      }
      int n = (int) Math.min(Math.min(window, MAX_FRAME), bytes.length - offset);
      client.frame(RawH2Client.DATA, 0, streamId, Arrays.copyOfRange(bytes, offset, offset + n));
      offset += n;
      sent += n;
      connectionWindow -= n;
      streamWindow -= n;
    }
    if (end) {
      client.frame(RawH2Client.DATA, RawH2Client.END_STREAM, streamId, new byte[0]);
    }
  }

  /** DATA bytes sent so far (any thread). */
  long sent() {
    return sent;
  }

  /** Reads until this stream's END_STREAM; returns everything received on it. */
  byte[] readToEnd() throws IOException {
    while (!ended) {
      readOne();
      if (reset != null) {
        throw new AssertionError("stream reset: " + reset + " after " + received.size() + " bytes");
      }
    }
    return received.toByteArray();
  }

  /** Reads until this stream's RST_STREAM and returns its error code. */
  long awaitReset() throws IOException {
    while (reset == null) {
      readOne();
    }
    return reset.errorCode();
  }

  /** Reads until at least {@code n} bytes arrived on this stream. */
  byte[] readAtLeast(int n) throws IOException {
    while (received.size() < n && !ended) {
      readOne();
      if (reset != null) {
        throw new AssertionError("stream reset: " + reset);
      }
    }
    return received.toByteArray();
  }

  boolean ended() {
    return ended;
  }

  private RawH2Client.Frame readOne() throws IOException {
    RawH2Client.Frame f = client.next();
    if (f == null) {
      throw new AssertionError("connection closed");
    }
    switch (f.type()) {
      case RawH2Client.WINDOW_UPDATE -> {
        int increment = ByteBuffer.wrap(f.payload()).getInt() & 0x7fffffff;
        if (f.streamId() == 0) {
          connectionWindow += increment;
        } else if (f.streamId() == streamId) {
          streamWindow += increment;
        }
      }
      case RawH2Client.SETTINGS -> {
        ByteBuffer p = ByteBuffer.wrap(f.payload());
        while (p.remaining() >= 6) {
          int id = p.getShort() & 0xffff;
          int value = p.getInt();
          if (id == 0x4) { // SETTINGS_INITIAL_WINDOW_SIZE (§6.5.2) moves every stream's window (§6.9.2)
            streamWindow += value - initialWindow;
            initialWindow = value;
          }
        }
      }
      case RawH2Client.DATA -> {
        if (f.streamId() == streamId) {
          received.write(f.payload());
          ended |= f.endStream();
        }
        if (f.payload().length > 0) {
          client.windowUpdate(0, f.payload().length);
          if (f.streamId() == streamId && !f.endStream()) {
            client.windowUpdate(streamId, f.payload().length);
          }
        }
      }
      case RawH2Client.HEADERS -> ended |= f.streamId() == streamId && f.endStream();
      case RawH2Client.RST_STREAM -> {
        if (f.streamId() == streamId) {
          reset = f;
        }
      }
      case RawH2Client.GOAWAY -> throw new AssertionError("GOAWAY: " + f);
      default -> { }
    }
    return f;
  }
}
