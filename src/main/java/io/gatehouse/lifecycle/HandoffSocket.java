package io.gatehouse.lifecycle;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Facts about the {@code handoff.socket} path and the hand-off protocol's words. The protocol is
 * lines of text plus file descriptors (SCM_RIGHTS), on a Unix stream socket:
 *
 * <pre>
 * successor                          running instance
 *   connect                    -->   checks the peer's uid (SO_PEERCRED)
 *                              <--   OFFER n            | REFUSED reason
 *   SEND                       -->
 *                              <--   n listening sockets (SCM_RIGHTS)
 *   ACCEPTING                  -->   (the successor accepts on them)  | FAILED reason
 *                              <--   DRAINING           (stops accepting, paced drain, exit 0)
 *   ADOPT                      -->   (the successor takes tunnels over; an older one closes here)
 *   for each tunnel or idle HTTP/1 connection that moves:
 *                              <--   TUNNEL {json}      (a tunnel: idle timeout, access-log record so far
 *                                                        with its listener; a connection: kind http1, listener;
 *                                                        a response in flight: kind response, its state)
 *   SEND | REFUSED reason      -->
 *                              <--   a tunnel or a response: 2 descriptors, the client's socket and the
 *                                    upstream's; a connection: 1, the client's (SCM_RIGHTS)
 *   READY | REFUSED reason     -->
 *                              <--   MOVED              (its copies are closed: the successor relays)
 *                              <--   END                (the drain is over)
 * </pre>
 *
 * The running instance keeps its own copies of the sockets open until it reads ACCEPTING, so if
 * the successor fails or dies at any step it has never stopped accepting. A tunnel moves frozen:
 * neither process reads its sockets from the moment the old one stops until the successor hears
 * MOVED, and nothing the old one read is left unwritten ({@link MoveSender}); if the connection
 * ends before MOVED, the successor closes the copies it holds and the tunnel relays on where it was.
 */
final class HandoffSocket {
  static final String OFFER = "OFFER";
  static final String REFUSED = "REFUSED";
  static final String SEND = "SEND";
  static final String ACCEPTING = "ACCEPTING";
  static final String FAILED = "FAILED";
  static final String DRAINING = "DRAINING";
  static final String ADOPT = "ADOPT";
  static final String TUNNEL = "TUNNEL";
  static final String READY = "READY";
  static final String MOVED = "MOVED";
  static final String END = "END";
  /**
   * The longest line either side reads: a TUNNEL line carries the request target, Referer and
   * User-Agent of its access-log record, each bounded by the listener's head limits.
   */
  static final int MAX_LINE = 1024 * 1024;
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  /** S_IFMT and S_IFSOCK of stat(2)'s st_mode. */
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  private HandoffSocket() {}

  /** Thrown when the path cannot serve as a hand-off socket; the message says why and what is expected. */
  static final class HandoffException extends IOException {
    HandoffException(String message) {
      super(message);
    }
  }

  /** Refuses a path that exists and is not a Unix socket (a typo must not clobber a file). */
  static void checkIsSocketOrAbsent(Path path) throws HandoffException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode;
    try {
      mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException e) {
      throw new HandoffException("handoff.socket " + path + ": cannot read its type: " + e.getMessage());
    }
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw new HandoffException("handoff.socket " + path + ": exists and is not a socket"
          + " (expected: a Unix socket path, or a path where none exists yet)");
    }
  }

  /** True when a process accepts connections on the socket at {@code path}. */
  static boolean answers(Path path) {
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(path));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The user id of this process (the owner of {@code /proc/self}). */
  static int ownUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read this process's uid: " + e.getMessage(), e);
    }
  }

  /** The inode of a path, to tell our socket file from a successor's that replaced it. */
  static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * What travels with a moving connection's descriptors (the TUNNEL line's JSON). A tunnel (no
   * {@code kind}; two descriptors, the client's and the upstream's): the idle timeout it was set up
   * with and its access-log record so far, which names the listener that accepted its client. An
   * idle HTTP/1 keep-alive connection ({@code kind} {@value #HTTP1}; one descriptor): the listener,
   * and the client a PROXY protocol header named, if one did. An HTTP/1 connection with a response
   * in flight ({@code kind} {@value #RESPONSE}; two descriptors, the client's and the upstream's):
   * that too, and the response's record so far, whether the connection stays open after it, how its
   * body is framed to the client, where the upstream's body stands and, base64 in {@code unsent}, the
   * bytes for the client this process had not written yet (a slow reader's; an earlier successor,
   * which knows no such field, refuses the line and the response goes on here). A tunnel's line is what it
   * was before connections moved too, and an earlier successor refuses any other as a line it
   * cannot parse.
   */
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record Moving(String kind, long idleNanos, io.gatehouse.relay.ExchangeRecord record, String listener,
      String proxiedSource, String proxiedDestination, Boolean keepAlive, Boolean clientChunked,
      io.gatehouse.http.BodyPosition upstreamBody, byte[] unsent) {
    static final String HTTP1 = "http1";
    static final String RESPONSE = "response";

    static Moving tunnel(io.gatehouse.relay.ExchangeRecord record, long idleNanos) {
      return new Moving(null, idleNanos, record, null, null, null, null, null, null, null);
    }

    static Moving connection(io.gatehouse.relay.ConnectionHandover connection) {
      io.gatehouse.http.ClientAddress client = connection.proxiedClient();
      return new Moving(HTTP1, 0, null, connection.listener(), client == null ? null : text(client.source()),
          client == null ? null : text(client.destination()), null, null, null, null);
    }

    static Moving response(io.gatehouse.relay.ResponseHandover.Frozen frozen) {
      io.gatehouse.http.ClientAddress client = frozen.proxiedClient();
      return new Moving(RESPONSE, frozen.idleNanos(), frozen.record(), frozen.listener(),
          client == null ? null : text(client.source()), client == null ? null : text(client.destination()),
          frozen.keepAlive(), frozen.clientChunked(), frozen.upstreamBody(), frozen.unsent());
    }

    /** An idle HTTP/1 connection (one descriptor). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    boolean isConnection() {
      return HTTP1.equals(kind);
    }

    /** An HTTP/1 connection with a response in flight (two descriptors). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    boolean isResponse() {
      return RESPONSE.equals(kind);
    }

    /** The descriptors that come after the line. */
    int descriptors() {
      return isConnection() ? 1 : 2;
    }

    /** The listener that accepted its client: the successor serves and counts it there. */
    String listenerName() {
      return kind != null ? listener : record.listener();
    }

    /** The response's description as the successor carries it on. */
    io.gatehouse.relay.ResponseHandover.Frozen frozen() {
      return new io.gatehouse.relay.ResponseHandover.Frozen(record, listener, null, keepAlive, clientChunked,
          io.gatehouse.http.BodyPosition.checked(upstreamBody.framing(), upstreamBody.remaining()), idleNanos, unsent);
    }
  }

  /** A TUNNEL line's JSON (one line: JSON escapes control characters). */
  static String encode(Moving moving) {
    try {
      return JSON.writeValueAsString(moving);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a moving connection's description does not serialize: " + e.getMessage(), e);
    }
  }

  static Moving decode(String json) throws IOException {
    Moving moving = JSON.readValue(json, Moving.class);
    if (moving.kind() != null && !moving.isConnection() && !moving.isResponse()) {
      throw new IOException("unknown kind '" + moving.kind() + "' (expected: " + Moving.HTTP1 + ", " + Moving.RESPONSE
          + " or none)");
    }
    boolean listed = moving.kind() != null ? moving.listener() != null : moving.record() != null && moving.record().listener() != null;
    if (!listed || (moving.isResponse() && (moving.record() == null || moving.keepAlive() == null
        || moving.clientChunked() == null || moving.upstreamBody() == null))) {
      throw new IOException("a TUNNEL line without its listener, record or response state");
    }
    if (moving.isResponse()) {
      try {
        moving.frozen();
      } catch (IllegalArgumentException e) {
        throw new IOException(e.getMessage());
      }
    }
    return moving;
  }

  /** An address as {@code host:port} ({@code [v6]:port}), read back by {@link #address}; null stays null. */
  static String text(java.net.InetSocketAddress address) {
    if (address == null || address.getAddress() == null) {
      return null;
    }
    String host = address.getAddress().getHostAddress();
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /** The address {@link #text} wrote (a literal IP: no name is looked up); null for null. */
  static java.net.InetSocketAddress address(String text) throws IOException {
    if (text == null) {
      return null;
    }
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IOException("not an address: " + text);
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (!io.netty.util.NetUtil.isValidIpV4Address(host) && !io.netty.util.NetUtil.isValidIpV6Address(host)) {
        throw new IOException("not an IP address: " + text);
      }
      return new java.net.InetSocketAddress(java.net.InetAddress.getByName(host), port);
    } catch (NumberFormatException | java.net.UnknownHostException e) {
      throw new IOException("not an address: " + text);
    }
  }

  /** A tunnel for the log: its client and upstream addresses. */
  static String describe(io.gatehouse.relay.TunnelRelay tunnel) {
    return tunnel.client().remoteAddress() + " <-> " + tunnel.upstream().remoteAddress();
  }
}
