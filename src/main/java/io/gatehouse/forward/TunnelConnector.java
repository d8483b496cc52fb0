package io.gatehouse.forward;

import io.gatehouse.pool.SelfConnect;
import io.gatehouse.relay.TunnelRelay;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Opens the upstream connection of a CONNECT tunnel on the client's event loop, trying each
 * resolved address in turn. The channel comes back with autoRead off and an empty pipeline; the
 * tunnel relay is installed once the client has been told {@code 200}.
 */
final class TunnelConnector {

  /** Receives the outcome on the event loop. */
  interface Callback {
    void connected(Channel upstream, InetSocketAddress address);

    void failed(Throwable cause, InetSocketAddress lastTried);
  }

  private final Bootstrap bootstrap;
  private final List<InetSocketAddress> addresses;
  private final Callback callback;

  private TunnelConnector(EventLoop loop, ForwardSettings settings, List<InetSocketAddress> addresses, Callback callback) {
    this.bootstrap = new Bootstrap()
        .group(loop)
        .channel(settings.upstreamChannel())
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, TunnelRelay.WATER_MARK)
        .option(ChannelOption.ALLOCATOR, io.netty.buffer.PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, settings.connectTimeoutNanos() / 1_000_000))
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            // the tunnel relay is added after the 200 is sent
          }
        });
    this.addresses = addresses;
    this.callback = callback;
  }

  static void open(EventLoop loop, ForwardSettings settings, List<InetSocketAddress> addresses, Callback callback) {
    new TunnelConnector(loop, settings, addresses, callback).attempt(0);
  }

  private void attempt(int index) {
    InetSocketAddress address = addresses.get(index);
    ChannelFuture future = bootstrap.connect(address);
    future.addListener(f -> {
      if (f.isSuccess() && SelfConnect.is(future.channel())) {
        future.channel().close(); // nothing listens there: refused, try the next address
        if (index + 1 < addresses.size()) {
          attempt(index + 1);
        } else {
          callback.failed(SelfConnect.refused(address), address);
        }
      } else if (f.isSuccess()) {
        callback.connected(future.channel(), address);
      } else if (index + 1 < addresses.size()) {
        attempt(index + 1);
      } else {
        callback.failed(f.cause(), address);
      }
    });
  }
}
