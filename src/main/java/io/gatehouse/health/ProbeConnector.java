package io.gatehouse.health;

import io.gatehouse.config.HostPort;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;

/**
 * How a probe reaches an endpoint: in production the same connect path as the connection pools
 * (transport, resolver, and the TLS of the endpoint's cluster), so an HTTP check of a TLS cluster
 * speaks TLS like the requests it stands for.
 */
@FunctionalInterface
public interface ProbeConnector {
  /**
   * Connects to {@code address} on {@code loop}; {@code handler} is installed above the transport
   * (and above TLS, when the endpoint's cluster re-encrypts).
   */
  ChannelFuture connect(EventLoop loop, HostPort address, long connectTimeoutNanos, ChannelHandler handler);

  /** Whether {@code address} is spoken to in HTTP/2 (its cluster's {@code protocol: h2}): an HTTP check then is too. */
  default boolean http2(HostPort address) {
    return false;
  }

  /** Plain TCP from {@code template} (transport, options, resolver). */
  static ProbeConnector plain(Bootstrap template) {
    return (loop, address, timeoutNanos, handler) -> template.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeoutNanos / 1_000_000))
        .handler(handler)
        .connect(InetSocketAddress.createUnresolved(address.host(), address.port()));
  }
}
