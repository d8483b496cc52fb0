package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real process under a Type=notify unit's NOTIFY_SOCKET says READY=1 once accepting and STOPPING=1 on SIGTERM. */
@Timeout(60)
class SdNotifyTest {
  @TempDir Path dir;

  @Test
  void ready_once_accepting_and_stopping_on_sigterm() throws Exception {
    assumeThat(Epoll.isAvailable()).isTrue();
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    List<String> states = new CopyOnWriteArrayList<>();
    Path socket = dir.resolve("notify.sock");
    Channel systemd = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
        .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
          @Override
          protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
            states.add(packet.content().toString(StandardCharsets.UTF_8));
          }
        })
        .bind(new DomainSocketAddress(socket.toFile())).sync().channel();
    try (FakeUpstream origin = FakeUpstream.start("o")) {
      Path config = dir.resolve("g.yaml");
      Files.writeString(config, """
          admin: { bind: 127.0.0.1:0 }
          limits: { drainTimeout: 5s }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(origin.address()));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
          "io.gatehouse.cli.Main", "run", "-c", config.toString()))
          .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile());
      builder.environment().put("NOTIFY_SOCKET", socket.toString());
      Process process = builder.start();
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> states.stream().anyMatch(s -> s.startsWith("READY=1")));
        assertThat(states.get(0)).contains("MAINPID=" + process.pid());
        process.destroy(); // SIGTERM
        await().atMost(Duration.ofSeconds(20)).until(() -> states.stream().anyMatch(s -> s.startsWith("STOPPING=1")));
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
      } finally {
        process.destroyForcibly();
      }
    } finally {
      systemd.close();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
