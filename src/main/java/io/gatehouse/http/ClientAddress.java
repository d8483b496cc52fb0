package io.gatehouse.http;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Who the client of a connection is, and which address it connected to: the socket's own
 * addresses, or, behind an L4 balancer that speaks the PROXY protocol, the addresses its header
 * carried (set once by the listener's PROXY stage before any request is read). Everything that
 * identifies a client (access rules, rate limits, hashing, {@code X-Forwarded-For}/{@code Forwarded},
 * the access log, per-client limits) reads it here, so they all agree.
 *
 * <p>Immutable. The one attribute a connection carries ({@link #KEY}) is typed and written once,
 * on the connection's event loop: by the PROXY stage before the HTTP handlers exist, or by an
 * HTTP/2 connection's first stream ({@link #ofConnection}).
 */
public final class ClientAddress {
  private static final AttributeKey<ClientAddress> KEY = AttributeKey.valueOf(ClientAddress.class, "client");

  private final InetSocketAddress source;
  private final InetSocketAddress destination;
  private final boolean fromProxyHeader;
  private final String ip;

  private ClientAddress(InetSocketAddress source, InetSocketAddress destination, boolean fromProxyHeader) {
    this.source = source;
    this.destination = destination;
    this.fromProxyHeader = fromProxyHeader;
    this.ip = source == null || source.getAddress() == null ? "-" : source.getAddress().getHostAddress();
  }

  /** The addresses a PROXY header stated for {@code ch}; from now on they are its client's. */
  public static ClientAddress fromProxyHeader(Channel ch, InetSocketAddress source, InetSocketAddress destination) {
    ClientAddress address = new ClientAddress(source, destination, true);
    ch.attr(KEY).set(address);
    return address;
  }

  /**
   * The client of {@code ch}: the PROXY header's source when one was accepted, else the socket's
   * peer.
   */
  public static ClientAddress of(Channel ch) {
    ClientAddress known = ch.attr(KEY).get();
    return known != null ? known : new ClientAddress(inet(ch.remoteAddress()), inet(ch.localAddress()), false);
  }

  /**
   * As {@link #of}, for each stream of an HTTP/2 connection: kept on the connection for its next
   * streams (an address and its text per request otherwise). A PROXY header, had there been one,
   * was read before any stream existed.
   */
  public static ClientAddress ofConnection(Channel connection) {
    ClientAddress known = connection.attr(KEY).get();
    if (known != null) {
      return known;
    }
    ClientAddress address = new ClientAddress(inet(connection.remoteAddress()), inet(connection.localAddress()), false);
    connection.attr(KEY).set(address);
    return address;
  }

  /** The client's socket address (port included); null when not an IP connection. */
  public InetSocketAddress source() {
    return source;
  }

  /** The client's IP address; null when not an IP connection. */
  public InetAddress address() {
    return source == null ? null : source.getAddress();
  }

  /** The address the client connected to (the balancer's, behind a PROXY header); may be null. */
  public InetSocketAddress destination() {
    return destination;
  }

  /** Whether the addresses came from a PROXY protocol header rather than the socket. */
  public boolean fromProxyHeader() {
    return fromProxyHeader;
  }

  /** The client's IP address as text ({@code 203.0.113.7}, {@code 2001:db8::1}), or {@code -}. */
  public String ip() {
    return ip;
  }

  private static InetSocketAddress inet(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? inet : null;
  }

  @Override
  public String toString() {
    return ip + (fromProxyHeader ? " (PROXY header)" : "");
  }
}
