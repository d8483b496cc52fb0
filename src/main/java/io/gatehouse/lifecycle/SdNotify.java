package io.gatehouse.lifecycle;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd about the service's state (sd_notify(3)): one datagram per state, sent to the Unix
 * socket named by {@code NOTIFY_SOCKET}, for a {@code Type=notify} unit. Without that variable
 * (not under systemd), or on the NIO transport, nothing is sent. Abstract socket names
 * ({@code @...}) are not supported by Netty's domain sockets and are skipped with a log line.
 */
final class SdNotify {
  private static final Logger log = LoggerFactory.getLogger(SdNotify.class);

  private final EventLoopGroup group;
  private final String socket;

  private SdNotify(EventLoopGroup group, String socket) {
    this.group = group;
    this.socket = socket;
  }

  static SdNotify fromEnvironment(EventLoopGroup group, Transport transport) {
    String socket = System.getenv("NOTIFY_SOCKET");
    if (socket == null || socket.isEmpty()) {
      return new SdNotify(group, null);
    }
    if (!transport.name().equals("epoll") || socket.startsWith("@")) {
      log.info("NOTIFY_SOCKET {} not used (needs the epoll transport and a socket path)", socket);
      return new SdNotify(group, null);
    }
    return new SdNotify(group, socket);
  }

  void ready() {
    send("READY=1\nSTATUS=accepting\nMAINPID=" + ProcessHandle.current().pid() + "\n");
  }

  void reloading() {
    send("RELOADING=1\n");
  }

  void stopping() {
    send("STOPPING=1\nSTATUS=draining\n");
  }

  private void send(String state) {
    if (socket == null) {
      return;
    }
    Channel ch = null;
    try {
      ch = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
          .handler(new ChannelInboundHandlerAdapter()).connect(new DomainSocketAddress(socket)).sync().channel();
      io.netty.channel.ChannelFuture sent = ch.writeAndFlush(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8));
      if (sent.await(2, TimeUnit.SECONDS) && !sent.isSuccess()) {
        log.warn("sd_notify to {} failed: {}", socket, sent.cause().toString());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) { // Netty rethrows a failed connect's checked cause from sync()
      log.warn("sd_notify to {} failed: {}", socket, e.toString());
    } finally {
      if (ch != null) {
        ch.close();
      }
    }
  }
}
