package io.gatehouse.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * An HTTP/2 client for byte-exact cases (RFC 9113): TLS with ALPN {@code h2} on a plain
 * {@link SSLSocket}, the connection preface and an empty SETTINGS, then exactly the frames the test
 * writes. Frames are built by hand so that malformed ones (a PRIORITY of 4 octets, a pseudo-header
 * after a regular field, an uppercase name) go out as written; header blocks use HPACK literals
 * without indexing (RFC 7541 §6.2.2), in the order given. Responses are read frame by frame, their
 * header blocks decoded with Netty's HPACK decoder. Every read is bounded by the timeout (default
 * 5 s); SETTINGS and PING from the server are acknowledged as they are read.
 *
 * <pre>{@code
 * try (RawH2Client h2 = RawH2Client.connect(port, certs)) {
 *   h2.headers(1, true, RawH2Client.request("GET", "/x", "localhost"));
 *   assertThat(h2.awaitResponse(1).status()).isEqualTo("200");
 * }
 * }</pre>
 */
public final class RawH2Client implements AutoCloseable {
  public static final int DATA = 0x0;
  public static final int HEADERS = 0x1;
  public static final int PRIORITY = 0x2;
  public static final int RST_STREAM = 0x3;
  public static final int SETTINGS = 0x4;
  public static final int PING = 0x6;
  public static final int GOAWAY = 0x7;
  public static final int WINDOW_UPDATE = 0x8;
  public static final int CONTINUATION = 0x9;
  public static final int END_STREAM = 0x1;
  public static final int ACK = 0x1;
  public static final int END_HEADERS = 0x4;

  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final SSLSocket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private final DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
  private boolean closedByPeer;

  /** One frame as read; {@code headers} is the decoded block of a HEADERS frame (else null). */
  public record Frame(int type, int flags, int streamId, byte[] payload, Http2Headers headers) {
    public boolean endStream() {
      return (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0;
    }

    /** The error code of a RST_STREAM or GOAWAY. */
    public long errorCode() {
      ByteBuffer b = ByteBuffer.wrap(payload);
      return Integer.toUnsignedLong(type == GOAWAY ? b.getInt(4) : b.getInt(0));
    }

    @Override
    public String toString() {
      return "Frame[type=" + type + ", flags=" + flags + ", stream=" + streamId + ", length=" + payload.length
          + (type == RST_STREAM || type == GOAWAY ? ", error=" + errorCode() : "")
          + (headers != null ? ", headers=" + headers : "") + "]";
    }
  }

  /** A response as read on one stream. */
  public record Response(String status, Http2Headers headers, String body, Http2Headers trailers) {}

  private RawH2Client(SSLSocket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects to 127.0.0.1:port trusting {@code certs}, negotiates h2, sends preface and SETTINGS. */
  public static RawH2Client connect(int port, TestCerts certs) throws IOException {
    SSLSocket socket = (SSLSocket) certs.clientSslContext().getSocketFactory().createSocket();
    try {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(Math.toIntExact(RawHttpClient.DEFAULT_TIMEOUT.toMillis()));
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port),
          Math.toIntExact(RawHttpClient.DEFAULT_TIMEOUT.toMillis()));
      return start(socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * As {@link #connect(int, TestCerts)}, with TLS over {@code plain}, a socket the test already
   * wrote to (a PROXY protocol header, say).
   */
  public static RawH2Client over(java.net.Socket plain, TestCerts certs) throws IOException {
    SSLSocket socket = (SSLSocket) certs.clientSslContext().getSocketFactory()
        .createSocket(plain, "localhost", plain.getPort(), true);
    try {
      socket.setSoTimeout(Math.toIntExact(RawHttpClient.DEFAULT_TIMEOUT.toMillis()));
      return start(socket);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private static RawH2Client start(SSLSocket socket) throws IOException {
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"h2"});
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    if (!"h2".equals(socket.getApplicationProtocol())) {
      throw new IOException("ALPN chose " + socket.getApplicationProtocol() + " (expected: h2)");
    }
    RawH2Client client = new RawH2Client(socket);
    client.out.write(PREFACE);
    client.frame(SETTINGS, 0, 0, new byte[0]);
    return client;
  }

  /** Bound on each following read. */
  public RawH2Client timeout(Duration timeout) throws IOException {
    socket.setSoTimeout(Math.toIntExact(timeout.toMillis()));
    return this;
  }

  /** The pseudo-headers of a well-formed request, in order, to which a test adds or removes. */
  public static List<String[]> request(String method, String path, String authority) {
    List<String[]> fields = new ArrayList<>();
    fields.add(new String[] {":method", method});
    fields.add(new String[] {":scheme", "https"});
    fields.add(new String[] {":path", path});
    fields.add(new String[] {":authority", authority});
    return fields;
  }

  /** A field list from {@code name, value, name, value, ...}. */
  public static List<String[]> fields(String... namesAndValues) {
    List<String[]> fields = new ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      fields.add(new String[] {namesAndValues[i], namesAndValues[i + 1]});
    }
    return fields;
  }

  /** HEADERS with END_HEADERS and the fields in the order given. */
  public void headers(int streamId, boolean endStream, List<String[]> fields) throws IOException {
    frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, block(fields));
  }

  public void data(int streamId, boolean endStream, String body) throws IOException {
    frame(DATA, endStream ? END_STREAM : 0, streamId, body.getBytes(StandardCharsets.UTF_8));
  }

  public void windowUpdate(int streamId, int increment) throws IOException {
    frame(WINDOW_UPDATE, 0, streamId, ByteBuffer.allocate(4).putInt(increment).array());
  }

  public void rstStream(int streamId, int errorCode) throws IOException {
    frame(RST_STREAM, 0, streamId, ByteBuffer.allocate(4).putInt(errorCode).array());
  }

  /** Any frame, header and payload exactly as given (RFC 9113 §4.1). */
  public void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
    write(encode(type, flags, streamId, payload));
  }

  /** The bytes of one frame, header and payload exactly as given (RFC 9113 §4.1). */
  public static byte[] encode(int type, int flags, int streamId, byte[] payload) {
    byte[] frame = new byte[9 + payload.length];
    frame[0] = (byte) (payload.length >>> 16);
    frame[1] = (byte) (payload.length >>> 8);
    frame[2] = (byte) payload.length;
    frame[3] = (byte) type;
    frame[4] = (byte) flags;
    ByteBuffer.wrap(frame, 5, 4).putInt(streamId);
    System.arraycopy(payload, 0, frame, 9, payload.length);
    return frame;
  }

  /** Bytes as given, in one write: many frames at once, as a flooding client sends them. */
  public void write(byte[] frames) throws IOException {
    out.write(frames);
    out.flush();
  }

  /** A header block of {@code fields} (literals, RFC 7541 §6.2.2), for HEADERS or CONTINUATION built by hand. */
  public static byte[] headerBlock(List<String[]> fields) {
    return block(fields);
  }

  /** The next frame; null when the server closed the connection. */
  public Frame next() throws IOException {
    if (closedByPeer) {
      return null;
    }
    byte[] head = new byte[9];
    try {
      in.readFully(head);
    } catch (EOFException | javax.net.ssl.SSLException e) {
      closedByPeer = true;
      return null;
    } catch (java.net.SocketException e) {
      closedByPeer = true; // reset by the peer after its GOAWAY
      return null;
    }
    int length = (head[0] & 0xff) << 16 | (head[1] & 0xff) << 8 | head[2] & 0xff;
    int type = head[3] & 0xff;
    int flags = head[4] & 0xff;
    int streamId = ByteBuffer.wrap(head, 5, 4).getInt() & 0x7fffffff;
    byte[] payload = new byte[length];
    in.readFully(payload);
    Http2Headers headers = null;
    if (type == HEADERS) {
      headers = decode(streamId, payload);
    } else if (type == SETTINGS && (flags & ACK) == 0) {
      frame(SETTINGS, ACK, 0, new byte[0]);
    } else if (type == PING && (flags & ACK) == 0) {
      frame(PING, ACK, 0, payload);
    }
    return new Frame(type, flags, streamId, payload, headers);
  }

  /** Reads until a RST_STREAM on {@code streamId} and returns it; fails on GOAWAY or close. */
  public Frame awaitReset(int streamId) throws IOException {
    Frame frame = awaitFrame(f -> f.type() == RST_STREAM && f.streamId() == streamId
        || f.type() == GOAWAY);
    if (frame.type() != RST_STREAM) {
      throw new AssertionError("expected RST_STREAM on stream " + streamId + ", got " + frame);
    }
    return frame;
  }

  /** Reads until a GOAWAY and returns it; fails if the connection closes first. */
  public Frame awaitGoAway() throws IOException {
    return awaitFrame(f -> f.type() == GOAWAY);
  }

  /** Reads until {@code streamId} ends (END_STREAM) and returns its response. */
  public Response awaitResponse(int streamId) throws IOException {
    Http2Headers head = null;
    Http2Headers trailers = null;
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      Frame frame = next();
      if (frame == null) {
        throw new AssertionError("connection closed before stream " + streamId + " ended");
      }
      if (frame.type() == GOAWAY || frame.type() == RST_STREAM && frame.streamId() == streamId) {
        throw new AssertionError("stream " + streamId + " failed: " + frame);
      }
      if (frame.streamId() != streamId) {
        continue;
      }
      if (frame.type() == HEADERS) {
        if (head == null || head.status() != null && head.status().charAt(0) == '1') {
          head = frame.headers();
        } else {
          trailers = frame.headers();
        }
      } else if (frame.type() == DATA) {
        body.write(frame.payload());
        windowUpdate(0, frame.payload().length);
      }
      if (frame.endStream()) {
        return new Response(head.status().toString(), head, body.toString(StandardCharsets.UTF_8), trailers);
      }
    }
  }

  /** Frames until one matches; fails on close or timeout. */
  public Frame awaitFrame(java.util.function.Predicate<Frame> wanted) throws IOException {
    List<Frame> seen = new ArrayList<>();
    while (true) {
      Frame frame;
      try {
        frame = next();
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no matching frame in time; read " + seen, e);
      }
      if (frame == null) {
        throw new AssertionError("connection closed; read " + seen);
      }
      if (wanted.test(frame)) {
        return frame;
      }
      seen.add(frame);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private Http2Headers decode(int streamId, byte[] block) {
    ByteBuf buf = Unpooled.wrappedBuffer(block);
    try {
      return hpack.decodeHeaders(streamId, buf);
    } catch (Http2Exception e) {
      throw new UncheckedIOException(new IOException("bad header block from server", e));
    } finally {
      buf.release();
    }
  }

  /** Literal header fields without indexing, new name (RFC 7541 §6.2.2), no Huffman coding. */
  private static byte[] block(List<String[]> fields) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    for (String[] field : fields) {
      block.write(0);
      string(block, field[0]);
      string(block, field[1]);
    }
    return block.toByteArray();
  }

  /** A string literal: 7-bit prefix length (RFC 7541 §5.1, §5.2), then the octets. */
  private static void string(ByteArrayOutputStream out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    int length = bytes.length;
    if (length < 127) {
      out.write(length);
    } else {
      out.write(127);
      length -= 127;
      while (length >= 128) {
        out.write(length % 128 + 128);
        length /= 128;
      }
      out.write(length);
    }
    out.write(bytes, 0, bytes.length);
  }
}
