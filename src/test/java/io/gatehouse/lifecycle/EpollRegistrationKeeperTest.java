package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A connection whose peer half-closed (RFC 9293 §3.6) and that stopped reading can still send more
 * than its socket holds: the write that fills the socket asks for EPOLLOUT on a descriptor Netty
 * 4.2.18 alone has already taken out of the epoll set. Deterministic: the peer reads nothing until
 * the whole write is queued.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EpollRegistrationKeeperTest {
  private static final int SIZE = 8 * 1024 * 1024; // far more than both sockets' buffers hold

  @Test
  void aHalfClosedConnectionThatStoppedReadingSendsEverything() throws Exception {
    assumeThat(Epoll.isAvailable()).isTrue();
    assertThat(sendAfterPeersFin(new EpollRegistrationKeeper())).isEqualTo(SIZE);
  }

  /** Sends SIZE bytes to a client that already sent its FIN; what the client received, to EOF. */
  private static long sendAfterPeersFin(IoHandlerFactory factory) throws Exception {
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, factory);
    try {
      CompletableFuture<Channel> inputEnded = new CompletableFuture<>();
      Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .childHandler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              ReferenceCountUtil.release(msg);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
              if (evt instanceof ChannelInputShutdownEvent) {
                ctx.channel().config().setAutoRead(false); // as a tunnel does: nothing more to read
                inputEnded.complete(ctx.channel());
              }
            }
          })
          .bind(InetAddress.getLoopbackAddress(), 0).sync().channel();
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(),
          ((InetSocketAddress) server.localAddress()).getPort())) {
        client.setSoTimeout(10_000);
        client.shutdownOutput();
        Channel accepted = inputEnded.get(10, TimeUnit.SECONDS);
        // Written from this thread, so it runs after the event loop finished with the FIN.
        ChannelFuture written = accepted.writeAndFlush(Unpooled.wrappedBuffer(new byte[SIZE]));
        written.addListener(f -> {
          if (f.isSuccess()) {
            ((DuplexChannel) accepted).shutdownOutput();
          } else {
            accepted.close();
          }
        });
        long received = 0;
        InputStream in = client.getInputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          received += n;
        }
        written.await(10, TimeUnit.SECONDS);
        assertThat(written.cause()).isNull();
        return received;
      } finally {
        server.close().sync();
      }
    } finally {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }
  }
}
