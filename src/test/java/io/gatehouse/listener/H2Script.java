package io.gatehouse.listener;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A client's side of an HTTP/2 connection, read from a fuzzer's bytes as a sequence of operations
 * (one frame each, or raw bytes), so that mutations give well-formed frames with fuzzer-chosen
 * stream ids, flags, lengths and header blocks rather than mostly broken frame headers. Header
 * blocks are HPACK literals without indexing (RFC 7541 §6.2.2) of names and values from a
 * dictionary of the cases RFC 9113 §8 names (pseudo-headers, connection-specific fields, uppercase
 * names, {@code te}, {@code content-length}, CONNECT), literal bytes, or raw HPACK bytes.
 *
 * <p>The encoding, one operation after the other until the bytes run out (a missing byte reads 0):
 * <pre>
 *   op % 11:  0 HEADERS    stream, flags (END_STREAM 0x1, PADDED 0x8, PRIORITY 0x20), pieces, fields
 *             1 CONTINUATION stream, flags, fields
 *             2 DATA       stream, flags (END_STREAM, PADDED), length
 *             3 RST_STREAM stream, code      4 WINDOW_UPDATE stream, increment (4 bytes)
 *             5 PRIORITY   stream, length    6 PING flags, length
 *             7 SETTINGS   flags, count, (id, value (4 bytes))*
 *             8 GOAWAY     last stream (4 bytes), code
 *             9 raw bytes  length, bytes     10 unknown type: type, flags, stream, length
 *   stream:   below 0xF0: (b % 16) * 2 + 1; else 0, 2, 4, 2^31-1, 1 with the reserved bit
 *   fields:   count (0x80: a well-formed request's pseudo-headers first, method from the next byte),
 *             then per field: a byte below 0xF0 picks a name, the next a value; 0xF0 and up: raw HPACK
 * </pre>
 * {@link Writer} writes the same encoding, for the seed corpus.
 */
final class H2Script {
  static final String[] NAMES = {
    ":method", ":scheme", ":path", ":authority", ":status", ":protocol", ":foo", "content-length", "te",
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "Host", "X-Up",
    "x-a", "cookie", "trailer", "expect", "", "x y", "x:y", null
  };
  static final String[] VALUES = {
    "GET", "POST", "CONNECT", "OPTIONS", "HEAD", "PUT", "https", "http", "/", "/a?b", "*", "", "localhost",
    "localhost:443", "example.com", "trailers", "gzip", "chunked", "0", "5", "10", "-1", "5, 5", "x", " x",
    "a\r\nb", "a\0b", "close", "h2c", "websocket", "example.com:443", null
  };
  static final int LITERAL_NAME = NAMES.length - 1;
  static final int LITERAL_VALUE = VALUES.length - 1;
  private static final String[] METHODS = {"GET", "POST", "CONNECT", "OPTIONS", "HEAD", "DELETE"};

  /** What the client sent on one stream, as far as the script knows it exactly. */
  static final class Sent {
    /** The first header block sent on the stream, decoded; null if none. */
    List<String[]> request;
    boolean endStream;
    boolean resetByClient;
  }

  final byte[] bytes;
  /** By stream id without the reserved bit, which a receiver ignores (RFC 9113 §4.1). */
  final Map<Integer, Sent> streams = new HashMap<>();
  /** False once the script sent bytes whose header fields it cannot follow (raw bytes or HPACK, CONTINUATION). */
  boolean exact = true;

  private H2Script(byte[] bytes) {
    this.bytes = bytes;
  }

  /** The frames {@code data} describes, after the connection preface and an empty SETTINGS. */
  static H2Script read(byte[] data) {
    Reader in = new Reader(data);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(frame(0x4, 0, 0, new byte[0]));
    Map<Integer, Sent> streams = new HashMap<>();
    boolean exact = true;
    // False once raw bytes were sent: the receiver's frame boundaries may no longer be the script's
    // (two stray bytes turn the next frame header into another frame), so what follows is not
    // known to have ended any stream (found when a finding blamed the proxy for such a stream).
    boolean framed = true;
    while (in.more()) {
      int op = in.u8() % 11;
      switch (op) {
        case 0 -> {
          int stream = in.stream();
          int flags = in.u8() & (0x1 | 0x8 | 0x20);
          int pieces = 1 + in.u8() % 3;
          List<String[]> fields = new ArrayList<>();
          byte[] block = in.fields(fields);
          if (fields == null || in.rawHpack) {
            exact = false;
          }
          Sent sent = streams.computeIfAbsent(stream & 0x7fffffff, s -> new Sent());
          if (sent.request == null) {
            sent.request = fields;
          }
          sent.endStream |= framed && (flags & 0x1) != 0;
          ByteArrayOutputStream payload = new ByteArrayOutputStream();
          int pad = (flags & 0x8) != 0 ? in.u8() % 8 : 0;
          if ((flags & 0x8) != 0) {
            payload.write(pad);
          }
          if ((flags & 0x20) != 0) {
            payload.writeBytes(ByteBuffer.allocate(5).putInt(in.u8() % 8).put((byte) 15).array());
          }
          int first = block.length / pieces;
          payload.write(block, 0, first);
          payload.writeBytes(new byte[pad]);
          out.writeBytes(frame(0x1, flags | (pieces == 1 ? 0x4 : 0), stream, payload.toByteArray()));
          for (int i = 1, at = first; i < pieces; i++) {
            int end = i == pieces - 1 ? block.length : at + block.length / pieces;
            byte[] piece = java.util.Arrays.copyOfRange(block, at, end);
            out.writeBytes(frame(0x9, i == pieces - 1 ? 0x4 : 0, stream, piece));
            at = end;
          }
        }
        case 1 -> {
          exact = false;
          int stream = in.stream();
          int flags = in.u8();
          out.writeBytes(frame(0x9, flags, stream, in.fields(new ArrayList<>())));
        }
        case 2 -> {
          int stream = in.stream();
          int flags = in.u8() & (0x1 | 0x8);
          int length = in.u8();
          ByteArrayOutputStream payload = new ByteArrayOutputStream();
          if ((flags & 0x8) != 0) {
            payload.write(in.u8() % 8);
          }
          payload.writeBytes(new byte[length]);
          if ((flags & 0x8) != 0) {
            payload.writeBytes(new byte[payload.toByteArray()[0]]);
          }
          streams.computeIfAbsent(stream & 0x7fffffff, s -> new Sent()).endStream |= framed && (flags & 0x1) != 0;
          out.writeBytes(frame(0x0, flags, stream, payload.toByteArray()));
        }
        case 3 -> {
          int stream = in.stream();
          streams.computeIfAbsent(stream & 0x7fffffff, s -> new Sent()).resetByClient = true;
          out.writeBytes(frame(0x3, 0, stream, ByteBuffer.allocate(4).putInt(in.u8() % 16).array()));
        }
        case 4 -> {
          int stream = in.u8() % 4 == 0 ? 0 : in.stream();
          out.writeBytes(frame(0x8, 0, stream, ByteBuffer.allocate(4).putInt(in.u32()).array()));
        }
        case 5 -> {
          int stream = in.stream();
          int length = in.u8() % 8;
          out.writeBytes(frame(0x2, 0, stream, in.take(length == 6 || length == 7 ? 5 : length)));
        }
        case 6 -> {
          int flags = in.u8() & 1;
          int length = in.u8() % 10;
          out.writeBytes(frame(0x6, flags, 0, new byte[length == 9 ? 8 : length]));
        }
        case 7 -> {
          int flags = in.u8() & 1;
          int count = in.u8() % 4;
          ByteBuffer payload = ByteBuffer.allocate(6 * count);
          for (int i = 0; i < count; i++) {
            payload.putShort((short) (in.u8() % 8)).putInt(in.u32());
          }
          out.writeBytes(frame(0x4, flags, 0, payload.array()));
        }
        case 8 -> {
          int last = in.u32();
          out.writeBytes(frame(0x7, 0, 0, ByteBuffer.allocate(8).putInt(last).putInt(in.u8() % 16).array()));
        }
        case 9 -> {
          exact = false;
          framed = false;
          out.writeBytes(in.take(in.u8()));
        }
        default -> {
          int type = 10 + in.u8() % 246;
          int flags = in.u8();
          int stream = in.stream();
          out.writeBytes(frame(type, flags, stream, new byte[in.u8() % 16]));
        }
      }
    }
    H2Script script = new H2Script(out.toByteArray());
    script.streams.putAll(streams);
    script.exact = exact;
    return script;
  }

  /** The client's bytes as hex, one frame a line (for a finding's message). */
  static String printable(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    ByteBuffer b = ByteBuffer.wrap(bytes);
    b.position(Math.min(24, bytes.length));
    while (b.remaining() >= 9) {
      int length = ((b.get(b.position()) & 0xff) << 16) | ((b.get(b.position() + 1) & 0xff) << 8)
          | (b.get(b.position() + 2) & 0xff);
      int end = Math.min(b.limit(), b.position() + 9 + length);
      s.append('\n');
      while (b.position() < end) {
        s.append(String.format("%02x", b.get()));
      }
    }
    while (b.hasRemaining()) {
      s.append(String.format("%02x", b.get()));
    }
    return s.toString();
  }

  /** A frame as RFC 9113 §4.1 lays it out. */
  static byte[] frame(int type, int flags, int streamId, byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(9 + payload.length);
    frame.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
    frame.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
    return frame.array();
  }

  /** The fuzzer's bytes, one field of the encoding at a time. */
  private static final class Reader {
    private final byte[] data;
    private int at;
    boolean rawHpack;

    Reader(byte[] data) {
      this.data = data;
    }

    boolean more() {
      return at < data.length;
    }

    int u8() {
      return at < data.length ? data[at++] & 0xff : 0;
    }

    int u32() {
      return (u8() << 24) | (u8() << 16) | (u8() << 8) | u8();
    }

    byte[] take(int n) {
      int end = Math.min(data.length, at + n);
      byte[] b = java.util.Arrays.copyOfRange(data, at, end);
      at = end;
      return b;
    }

    int stream() {
      int b = u8();
      if (b < 0xF0) {
        return (b % 16) * 2 + 1;
      }
      return new int[] {0, 2, 4, Integer.MAX_VALUE, 0x80000001}[b % 5];
    }

    /** Reads a field list, adds its fields to {@code fields} and returns its HPACK block. */
    byte[] fields(List<String[]> fields) {
      rawHpack = false;
      ByteArrayOutputStream block = new ByteArrayOutputStream();
      int count = u8();
      if ((count & 0x80) != 0) {
        String[][] request = {{":method", METHODS[u8() % METHODS.length]}, {":scheme", "https"}, {":path", "/"},
            {":authority", "localhost"}};
        for (String[] field : request) {
          literal(block, field[0], field[1]);
          fields.add(field);
        }
      }
      for (int i = 0; i < (count & 0x7f) % 12 && more(); i++) {
        int kind = u8();
        if (kind >= 0xF0) {
          rawHpack = true;
          block.writeBytes(take(u8() % 16));
          continue;
        }
        int n = kind % NAMES.length;
        String name = n == LITERAL_NAME ? new String(take(u8() % 16), StandardCharsets.ISO_8859_1) : NAMES[n];
        int v = u8() % VALUES.length;
        String value = v == LITERAL_VALUE ? new String(take(u8() % 32), StandardCharsets.ISO_8859_1) : VALUES[v];
        literal(block, name, value);
        fields.add(new String[] {name, value});
      }
      return block.toByteArray();
    }
  }

  /** A literal field line without indexing, new name (RFC 7541 §6.2.2), lengths as §5.1 integers. */
  private static void literal(ByteArrayOutputStream block, String name, String value) {
    block.write(0);
    for (String s : new String[] {name, value}) {
      byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
      integer(block, b.length);
      block.writeBytes(b);
    }
  }

  private static void integer(ByteArrayOutputStream block, int n) {
    if (n < 127) {
      block.write(n);
      return;
    }
    block.write(127);
    n -= 127;
    while (n >= 128) {
      block.write((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    block.write(n);
  }

  /** Writes scripts in the encoding {@link #read} reads, for the seed corpus. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** HEADERS on {@code stream} (odd, below 32) with the given fields (each from the dictionaries). */
    Writer headers(int stream, int flags, String... namesAndValues) {
      out.write(0);
      out.write((stream - 1) / 2);
      out.write(flags);
      out.write(0); // one piece
      fields(namesAndValues);
      return this;
    }

    /** A request's pseudo-headers (method from {@link #METHODS}), then the given fields. */
    Writer request(int stream, int flags, String method, String... namesAndValues) {
      out.write(0);
      out.write((stream - 1) / 2);
      out.write(flags);
      out.write(0);
      out.write(0x80 | namesAndValues.length / 2);
      out.write(List.of(METHODS).indexOf(method));
      pairs(namesAndValues);
      return this;
    }

    Writer data(int stream, int flags, int length) {
      out.writeBytes(new byte[] {2, (byte) ((stream - 1) / 2), (byte) flags, (byte) length});
      return this;
    }

    Writer rst(int stream, int code) {
      out.writeBytes(new byte[] {3, (byte) ((stream - 1) / 2), (byte) code});
      return this;
    }

    Writer windowUpdate(int stream, int increment) {
      out.writeBytes(new byte[] {4, 1, (byte) ((stream - 1) / 2)});
      out.writeBytes(ByteBuffer.allocate(4).putInt(increment).array());
      return this;
    }

    Writer priority(int stream, int length) {
      out.writeBytes(new byte[] {5, (byte) ((stream - 1) / 2), (byte) length});
      out.writeBytes(new byte[length]);
      return this;
    }

    Writer ping() {
      out.writeBytes(new byte[] {6, 0, 9});
      return this;
    }

    Writer goAway(int last) {
      out.write(8);
      out.writeBytes(ByteBuffer.allocate(4).putInt(last).array());
      out.write(0);
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }

    private void fields(String... namesAndValues) {
      out.write(namesAndValues.length / 2);
      pairs(namesAndValues);
    }

    private void pairs(String... namesAndValues) {
      for (int i = 0; i < namesAndValues.length; i += 2) {
        int n = java.util.Arrays.asList(NAMES).indexOf(namesAndValues[i]);
        int v = java.util.Arrays.asList(VALUES).indexOf(namesAndValues[i + 1]);
        if (n < 0 || v < 0) {
          throw new IllegalArgumentException("not in the dictionaries: " + namesAndValues[i] + ": " + namesAndValues[i + 1]);
        }
        out.write(n);
        out.write(v);
      }
    }
  }
}
