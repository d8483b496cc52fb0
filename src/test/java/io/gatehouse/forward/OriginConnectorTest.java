package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.HostPort;
import io.gatehouse.http.Reason;
import io.gatehouse.pool.ConnectFailures;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.UpstreamConnector;
import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.testing.FakeUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every resolved address is tried, in order, before a request or tunnel fails. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OriginConnectorTest {
  private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoop loop = group.next();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private ForwardSettings settings() {
    return new ForwardSettings(null, null, false, false, Set.of(443), true, null, null,
        2_000_000_000L, 5_000_000_000L, 0, 60_000_000_000L, 16);
  }

  @Test
  void httpMovesOnToTheNextAddressWhenOneRefuses() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      // the origin listens on 127.0.0.1 only: 127.0.0.2 refuses
      List<InetSocketAddress> addresses = List.of(
          new InetSocketAddress("127.0.0.2", origin.port()), new InetSocketAddress("127.0.0.1", origin.port()));
      UpstreamPools pools = new UpstreamPools(List.of(loop),
          new Bootstrap().channel(NioSocketChannel.class).handler(new UpstreamPipeline(64 * 1024)), System::nanoTime);
      CompletableFuture<String> result = new CompletableFuture<>();
      loop.execute(() -> {
        OriginConnector connector = new OriginConnector(loop, pools, addresses, settings());
        connector.connect(0, false, new UpstreamConnector.ConnectCallback() {
          @Override
          public void connected(Channel upstream, boolean reused) {
            result.completeExceptionally(new AssertionError("127.0.0.2 should refuse"));
          }

          @Override
          public void failed(Reason reason, Throwable cause) {
            assertThat(connector.mayRetry(0, reason)).isTrue();
            connector.connect(1, false, new UpstreamConnector.ConnectCallback() {
              @Override
              public void connected(Channel upstream, boolean reused) {
                assertThat(connector.mayRetry(1, Reason.UPSTREAM_CONNECT_FAILED)).isFalse();
                connector.finish(upstream, false, Reason.OK, 0);
                result.complete(connector.upstreamLabel());
              }

              @Override
              public void failed(Reason reason2, Throwable cause2) {
                result.completeExceptionally(cause2);
              }
            });
          }
        });
      });
      assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo("127.0.0.1:" + origin.port());
    }
  }

  @Test
  void tunnelMovesOnToTheNextAddressWhenOneRefuses() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      HostPort refusing = new HostPort("127.0.0.2", origin.port());
      HostPort live = new HostPort("127.0.0.1", origin.port());
      UpstreamPools pools = new UpstreamPools(List.of(loop),
          new Bootstrap().channel(NioSocketChannel.class).handler(new UpstreamPipeline(64 * 1024)), System::nanoTime);
      CompletableFuture<String> result = new CompletableFuture<>();
      loop.execute(() -> pools.connectExclusive(loop,
          List.of(settings().tunnelPeer(refusing), settings().tunnelPeer(live)), new UpstreamPools.ExclusiveCallback() {
            @Override
            public void connected(Channel upstream, PeerSpec peer) {
              // a tunnel's upstream: nothing read before the relay is installed, no HTTP handler
              // (only the inert placeholder that the relay is added behind)
              String state = peer.address() + " autoRead=" + upstream.config().isAutoRead()
                  + " handlers=" + upstream.pipeline().toMap().values().stream()
                      .map(h -> h.getClass().getSimpleName()).toList();
              upstream.close();
              result.complete(state);
            }

            @Override
            public void failed(Throwable cause) {
              result.completeExceptionally(cause);
            }
          }));
      assertThat(result.get(10, TimeUnit.SECONDS))
          .isEqualTo(live + " autoRead=false handlers=[Bare]");
    }
  }

  @Test
  void tunnelToAddressesThatAllRefuseFailsAsAConnectFailure() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      UpstreamPools pools = new UpstreamPools(List.of(loop),
          new Bootstrap().channel(NioSocketChannel.class).handler(new UpstreamPipeline(64 * 1024)), System::nanoTime);
      CompletableFuture<Reason> result = new CompletableFuture<>();
      loop.execute(() -> pools.connectExclusive(loop,
          List.of(settings().tunnelPeer(new HostPort("127.0.0.2", origin.port())),
              settings().tunnelPeer(new HostPort("127.0.0.3", origin.port()))),
          new UpstreamPools.ExclusiveCallback() {
            @Override
            public void connected(Channel upstream, PeerSpec peer) {
              upstream.close();
              result.completeExceptionally(new AssertionError("connected to " + peer));
            }

            @Override
            public void failed(Throwable cause) {
              result.complete(ConnectFailures.reason(cause));
            }
          }));
      assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(Reason.UPSTREAM_CONNECT_FAILED);
    }
  }
}
