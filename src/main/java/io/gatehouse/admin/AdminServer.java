package io.gatehouse.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The admin HTTP API and the dashboard on their own listener ({@code [http-codec] -> aggregator ->
 * DashboardHandler -> AdminHandler}).
 * Requests are small, so they are aggregated (unlike the proxy path). Calls into the proxy run on
 * one admin thread, never on an event loop: a reload or a state-file write may take a while, and
 * one thread also serializes concurrent changes in arrival order.
 */
public final class AdminServer {
  private final Channel channel;
  private final ExecutorService worker;

  private AdminServer(Channel channel, ExecutorService worker) {
    this.channel = channel;
    this.worker = worker;
  }

  /**
   * @param token bearer token required on every route, or null when none is configured
   * @param inherited a socket already listening on {@code bind} (taken over from the process this
   *     one replaces), adopted instead of binding; or null
   * @param acceptErrors the listening socket's handler of failed accepts (the descriptor limit)
   */
  public static AdminServer start(
      InetSocketAddress bind, String token, EventLoopGroup group, Class<? extends ServerChannel> type,
      ServerChannel inherited, AdminBackend backend, ChannelHandler acceptErrors)
      throws InterruptedException {
    ThreadPoolExecutor worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1024),
        r -> {
          Thread t = new Thread(r, "gatehouse-admin");
          t.setDaemon(true);
          return t;
        });
    DashboardAssets assets = DashboardAssets.load();
    byte[] expected = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    ServerBootstrap bootstrap = new ServerBootstrap().group(group);
    if (inherited != null) {
      bootstrap.channelFactory(() -> inherited);
    } else {
      bootstrap.channel(type);
    }
    bootstrap
        .handler(acceptErrors)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                new DashboardHandler(assets), new AdminHandler(expected, backend, worker));
          }
        });
    Channel ch = (inherited != null ? bootstrap.register() : bootstrap.bind(bind)).sync().channel();
    return new AdminServer(ch, worker);
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  /** The listening socket, for handing it to a successor process. */
  public ServerChannel serverChannel() {
    return (ServerChannel) channel;
  }

  /** Stops accepting; calls already in progress are answered. */
  public void stopAccepting() {
    channel.close().syncUninterruptibly();
  }

  public void close() {
    channel.close().syncUninterruptibly();
    worker.shutdownNow();
  }
}
