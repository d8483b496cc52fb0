package io.gatehouse.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.relay.UpstreamPipeline;
import io.gatehouse.testing.FakeUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** One pool on one event loop against a real socket; every pool call runs on the loop, as in production. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConnectionPoolTest {
  private static final long MAX_IDLE = TimeUnit.SECONDS.toNanos(30);

  private final AtomicLong now = new AtomicLong(0);
  private MultiThreadIoEventLoopGroup group;
  private EventLoop loop;
  private FakeUpstream upstream;

  @BeforeEach
  void start() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    loop = (EventLoop) group.next();
    upstream = FakeUpstream.start("origin");
  }

  @AfterEach
  void stop() {
    upstream.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private ConnectionPool pool(int maxConnections) {
    Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .handler(new UpstreamPipeline(16 * 1024));
    return new ConnectionPool(loop, bootstrap, new InetSocketAddress("127.0.0.1", upstream.port()),
        maxConnections, MAX_IDLE, now::get);
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(5, TimeUnit.SECONDS);
  }

  /** What an acquire produced. */
  private record Acquired(Channel channel, boolean reused, Throwable failure) {}

  private CompletableFuture<Acquired> acquire(ConnectionPool pool, boolean allowReuse) throws Exception {
    CompletableFuture<Acquired> result = new CompletableFuture<>();
    onLoop(() -> {
      pool.acquire(new AcquireCallback() {
        @Override
        public void acquired(Channel channel, boolean reused) {
          result.complete(new Acquired(channel, reused, null));
        }

        @Override
        public void failed(Throwable cause) {
          result.complete(new Acquired(null, false, cause));
        }
      }, allowReuse);
      return null;
    });
    return result;
  }

  @Test
  void released_connection_is_reused_warmest_first() throws Exception {
    ConnectionPool pool = pool(4);
    Acquired first = acquire(pool, true).get(5, TimeUnit.SECONDS);
    Acquired second = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(first.reused()).isFalse();
    assertThat(second.reused()).isFalse();
    onLoop(() -> {
      pool.release(first.channel());
      now.addAndGet(1000);
      pool.release(second.channel());
      return null;
    });
    assertThat(onLoop(pool::idleConnections)).isEqualTo(2);
    Acquired again = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(again.reused()).isTrue();
    assertThat(again.channel()).isSameAs(second.channel());
    assertThat(onLoop(pool::openConnections)).isEqualTo(2);
  }

  @Test
  void zero_max_connections_means_no_cap() throws Exception {
    ConnectionPool pool = pool(0);
    for (int i = 0; i < 300; i++) { // past the old default of 256: none of them waits
      Acquired acquired = acquire(pool, true).get(5, TimeUnit.SECONDS);
      assertThat(acquired.failure()).isNull();
      assertThat(acquired.reused()).isFalse();
    }
    assertThat(onLoop(pool::openConnections)).isEqualTo(300);
  }

  @Test
  void fresh_acquire_never_reuses() throws Exception {
    ConnectionPool pool = pool(4);
    Acquired first = acquire(pool, true).get(5, TimeUnit.SECONDS);
    onLoop(() -> {
      pool.release(first.channel());
      return null;
    });
    Acquired fresh = acquire(pool, false).get(5, TimeUnit.SECONDS);
    assertThat(fresh.reused()).isFalse();
    assertThat(fresh.channel()).isNotSameAs(first.channel());
  }

  @Test
  void at_the_limit_callers_wait_for_a_release() throws Exception {
    ConnectionPool pool = pool(1);
    Acquired only = acquire(pool, true).get(5, TimeUnit.SECONDS);
    CompletableFuture<Acquired> waiting = acquire(pool, true);
    assertThat(waiting).isNotDone();
    onLoop(() -> {
      pool.release(only.channel());
      return null;
    });
    Acquired handedOver = waiting.get(5, TimeUnit.SECONDS);
    assertThat(handedOver.channel()).isSameAs(only.channel());
    assertThat(handedOver.reused()).isTrue();
  }

  @Test
  void a_caller_waits_for_a_free_connection_no_longer_than_the_connect_timeout() throws Exception {
    Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, 200)
        .handler(new UpstreamPipeline(16 * 1024));
    ConnectionPool pool = new ConnectionPool(loop, bootstrap, new InetSocketAddress("127.0.0.1", upstream.port()),
        1, MAX_IDLE, now::get);
    Acquired only = acquire(pool, true).get(5, TimeUnit.SECONDS);
    Acquired waited = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(waited.failure()).isInstanceOf(PoolOverloadedException.class).hasMessageContaining("200 ms");
    assertThat(onLoop(pool::openConnections)).isEqualTo(1);
    onLoop(() -> {
      pool.release(only.channel());
      return null;
    });
  }

  @Test
  void a_discarded_connection_makes_room_for_a_waiting_caller() throws Exception {
    ConnectionPool pool = pool(1);
    Acquired only = acquire(pool, true).get(5, TimeUnit.SECONDS);
    CompletableFuture<Acquired> waiting = acquire(pool, true);
    onLoop(() -> {
      pool.discard(only.channel());
      return null;
    });
    Acquired next = waiting.get(5, TimeUnit.SECONDS);
    assertThat(next.failure()).isNull();
    assertThat(next.reused()).isFalse();
    assertThat(next.channel()).isNotSameAs(only.channel());
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.connectionsAccepted() == 2); // accepted asynchronously
  }

  @Test
  void queue_is_bounded() throws Exception {
    ConnectionPool pool = pool(1);
    acquire(pool, true).get(5, TimeUnit.SECONDS);
    for (int i = 0; i < 4; i++) {
      assertThat(acquire(pool, true)).isNotDone();
    }
    Acquired refused = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(refused.failure()).isInstanceOf(PoolOverloadedException.class);
  }

  @Test
  void idle_connection_closed_by_the_upstream_leaves_the_pool() throws Exception {
    ConnectionPool pool = pool(4);
    Acquired first = acquire(pool, true).get(5, TimeUnit.SECONDS);
    onLoop(() -> {
      pool.release(first.channel());
      return null;
    });
    assertThat(onLoop(pool::idleConnections)).isEqualTo(1);
    upstream.kill(); // FIN on every connection, as an origin shutting down
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(pool::idleConnections) == 0);
    assertThat(onLoop(pool::openConnections)).isZero();
  }

  @Test
  void data_on_an_idle_connection_closes_it() throws Exception {
    ConnectionPool pool = pool(4);
    Acquired first = acquire(pool, true).get(5, TimeUnit.SECONDS);
    first.channel().writeAndFlush(new io.netty.handler.codec.http.DefaultFullHttpRequest(
        io.netty.handler.codec.http.HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET, "/"));
    onLoop(() -> {
      pool.release(first.channel()); // the response now arrives on an idle connection: out of sync
      return null;
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(pool::idleConnections) == 0);
    assertThat(acquire(pool, true).get(5, TimeUnit.SECONDS).reused()).isFalse();
  }

  @Test
  void connections_idle_too_long_are_not_handed_out() throws Exception {
    ConnectionPool pool = pool(4);
    Acquired first = acquire(pool, true).get(5, TimeUnit.SECONDS);
    onLoop(() -> {
      pool.release(first.channel());
      return null;
    });
    now.addAndGet(MAX_IDLE);
    Acquired next = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(next.reused()).isFalse();
    await().atMost(Duration.ofSeconds(5)).until(() -> !first.channel().isOpen());
  }

  @Test
  void close_fails_waiting_callers_and_refuses_new_ones() throws Exception {
    ConnectionPool pool = pool(1);
    acquire(pool, true).get(5, TimeUnit.SECONDS);
    CompletableFuture<Acquired> waiting = acquire(pool, true);
    onLoop(() -> {
      pool.close();
      return null;
    });
    assertThat(waiting.get(5, TimeUnit.SECONDS).failure()).isInstanceOf(PoolOverloadedException.class);
    assertThat(acquire(pool, true).get(5, TimeUnit.SECONDS).failure()).isInstanceOf(PoolOverloadedException.class);
  }

  @Test
  void refused_connect_is_reported_and_frees_its_slot() throws Exception {
    // A port held by a bound socket that never listens: a connect to it is refused, and, unlike the
    // port of a killed upstream, neither the kernel (as a source port, see the self-connect test)
    // nor another process's listener can take it meanwhile.
    try (java.net.Socket reserved = new java.net.Socket()) {
      reserved.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
      Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
          .handler(new UpstreamPipeline(16 * 1024));
      ConnectionPool pool = new ConnectionPool(loop, bootstrap,
          new InetSocketAddress("127.0.0.1", reserved.getLocalPort()), 1, MAX_IDLE, now::get);
      assertThat(acquire(pool, true).get(5, TimeUnit.SECONDS).failure()).isInstanceOf(java.net.ConnectException.class);
      await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(pool::openConnections) == 0);
    }
  }

  @Test
  void self_connect_is_a_refused_connect() throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    InetSocketAddress self = new InetSocketAddress("127.0.0.1", port);
    // Binding the source port to the destination port forces what the kernel does by chance when
    // it picks a closed destination port as the ephemeral source port: the SYN meets itself.
    Bootstrap bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
        .localAddress(self)
        .handler(new UpstreamPipeline(16 * 1024));
    ConnectionPool pool = new ConnectionPool(loop, bootstrap, self, 1, MAX_IDLE, now::get);
    Acquired result = acquire(pool, true).get(5, TimeUnit.SECONDS);
    assertThat(result.failure()).isInstanceOf(java.net.ConnectException.class);
    assertThat(ConnectFailures.reason(result.failure())).isEqualTo(io.gatehouse.http.Reason.UPSTREAM_CONNECT_FAILED);
    await().atMost(Duration.ofSeconds(5)).until(() -> onLoop(pool::openConnections) == 0);
  }
}
