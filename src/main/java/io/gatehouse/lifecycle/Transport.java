package io.gatehouse.lifecycle;

import io.netty.channel.Channel;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/** The socket transport: native epoll on Linux when it loads, Java NIO otherwise. */
public record Transport(
    String name,
    IoHandlerFactory ioHandlerFactory,
    Class<? extends ServerChannel> serverChannel,
    Class<? extends SocketChannel> socketChannel,
    Class<? extends DatagramChannel> datagramChannel) {

  public static Transport best() {
    if (Epoll.isAvailable() && !Boolean.getBoolean("gatehouse.nio")) {
      // Netty's epoll handler, keeping a half-closed connection's descriptor in the epoll set
      return new Transport("epoll", new EpollRegistrationKeeper(), EpollServerSocketChannel.class,
          EpollSocketChannel.class, EpollDatagramChannel.class);
    }
    return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class,
        NioSocketChannel.class, NioDatagramChannel.class);
  }

  public Class<? extends Channel> clientChannel() {
    return socketChannel;
  }

  /** Client sockets of the IPv4 family (the default ones are IPv6, which take IPv4 peers as mapped addresses). */
  public io.netty.channel.ChannelFactory<Channel> ipv4ClientChannels() {
    if (socketChannel == EpollSocketChannel.class) {
      return () -> new EpollSocketChannel(io.netty.channel.socket.SocketProtocolFamily.INET);
    }
    return () -> new NioSocketChannel(java.nio.channels.spi.SelectorProvider.provider(),
        io.netty.channel.socket.SocketProtocolFamily.INET);
  }
}
