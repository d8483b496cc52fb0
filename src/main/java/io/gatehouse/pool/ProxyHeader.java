package io.gatehouse.pool;

import io.gatehouse.config.ProxyProtocolVersion;
import io.gatehouse.http.ClientAddress;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The PROXY protocol header (HAProxy's spec: v1 text, section 2.1; v2 binary, section 2.2) an
 * upstream connection of a cluster with {@code proxyProtocol} opens with, so the origin learns the
 * client as if it had accepted the connection itself. It goes out before any other byte, the TLS
 * ClientHello included: {@code proxy-header-encoder -> proxy-header -> [upstream-tls] -> ...},
 * both leaving once the header is written. Nothing is allocated until then (a connect that fails
 * leaves nothing to release).
 */
public final class ProxyHeader extends ChannelDuplexHandler {
  static final String ENCODER = "proxy-header-encoder";
  static final String NAME = "proxy-header";
  private static final byte[] V1_UNKNOWN = "PROXY UNKNOWN\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final ProxyProtocolVersion version;
  /** Null for a header about no client: v2 {@code LOCAL}, v1 {@code PROXY UNKNOWN}. */
  private final ClientAddress client;
  /** Event-loop confined: plain. */
  private boolean sent;

  private ProxyHeader(ProxyProtocolVersion version, ClientAddress client) {
    this.version = version;
    this.client = client;
  }

  /**
   * The header for a connection carrying {@code client}'s requests: the client's address as
   * source, the address it connected to (its balancer's, when it came through one) as destination.
   */
  public static ProxyHeader forClient(ProxyProtocolVersion version, ClientAddress client) {
    return new ProxyHeader(version, client);
  }

  /** The header of a connection on the proxy's own behalf (health probes): no client address. */
  static ProxyHeader local(ProxyProtocolVersion version) {
    return new ProxyHeader(version, null);
  }

  /** An initializer putting {@code this} (and its encoder) in front of what {@code next} builds. */
  ChannelHandler before(ChannelHandler next) {
    ProxyHeader header = this;
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        ch.pipeline().addLast(ENCODER, HAProxyMessageEncoder.INSTANCE).addLast(NAME, header).addLast(next);
      }
    };
  }

  /**
   * The connect promise's listeners (the pool's) run before {@code channelActive}, and may write
   * the request at once: whichever comes first, a write or activation, sends the header first.
   */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    send(ctx);
    ctx.write(msg, promise);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    send(ctx);
    ctx.flush();
    ctx.fireChannelActive();
  }

  private void send(ChannelHandlerContext ctx) {
    if (sent) {
      return;
    }
    sent = true;
    Object header = message();
    // Through the encoder, which is nearer the socket. A connection whose header failed must not
    // carry a request that the origin would take as the proxy's own: it closes.
    ctx.write(header).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    ctx.pipeline().remove(ENCODER);
    ctx.pipeline().remove(this);
  }

  /** An {@link HAProxyMessage} for the encoder, or the bytes of v1's UNKNOWN line, which it cannot write. */
  Object message() {
    HAProxyProtocolVersion v = version == ProxyProtocolVersion.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2;
    InetSocketAddress source = client == null ? null : client.source();
    InetSocketAddress destination = client == null ? null : client.destination();
    if (source == null || destination == null || source.getAddress() == null || destination.getAddress() == null) {
      // v2 LOCAL: "the receiver must use the real connection endpoints" (2.2); v1 has only UNKNOWN (2.1).
      return v == HAProxyProtocolVersion.V2
          ? new HAProxyMessage(v, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0)
          : Unpooled.wrappedBuffer(V1_UNKNOWN);
    }
    InetAddress src = source.getAddress();
    InetAddress dst = destination.getAddress();
    boolean v4 = asV4(src) != null && asV4(dst) != null;
    return new HAProxyMessage(v, HAProxyCommand.PROXY,
        v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
        v4 ? asV4(src) : asV6(src), v4 ? asV4(dst) : asV6(dst), source.getPort(), destination.getPort());
  }

  /** Dotted text of an IPv4 address, else null (Java holds an IPv4-mapped IPv6 address as IPv4). */
  private static String asV4(InetAddress address) {
    return address instanceof Inet4Address ? address.getHostAddress() : null;
  }

  /** IPv6 text without a scope; an IPv4 address in its mapped form (both ends of TCP6 are IPv6). */
  private static String asV6(InetAddress address) {
    if (address instanceof Inet6Address) {
      String text = address.getHostAddress();
      int scope = text.indexOf('%');
      return scope < 0 ? text : text.substring(0, scope);
    }
    return "::ffff:" + address.getHostAddress();
  }
}
