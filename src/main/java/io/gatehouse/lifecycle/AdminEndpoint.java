package io.gatehouse.lifecycle;

import io.gatehouse.admin.AdminBackend;
import io.gatehouse.admin.AdminServer;
import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.metrics.ProxyMetrics;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/** Connects the admin API to the running server. */
final class AdminEndpoint implements AdminBackend {
  private final ProxyMetrics metrics;
  private final GatehouseServer server;
  private AdminServer admin;

  private AdminEndpoint(ProxyMetrics metrics, GatehouseServer server) {
    this.metrics = metrics;
    this.server = server;
  }

  static AdminEndpoint start(AdminConfig config, EventLoopGroup group, Transport transport, ProxyMetrics metrics,
      GatehouseServer server) throws InterruptedException {
    AdminEndpoint endpoint = new AdminEndpoint(metrics, server);
    endpoint.admin = AdminServer.start(new InetSocketAddress(config.bind().host(), config.bind().port()),
        config.token(), group, transport.serverChannel(), endpoint);
    return endpoint;
  }

  InetSocketAddress localAddress() {
    return admin.localAddress();
  }

  void close() {
    admin.close();
  }

  @Override
  public String metricsText() {
    return metrics.scrape();
  }

  @Override
  public boolean ready() {
    return server.ready();
  }

  @Override
  public String reload() {
    GatehouseConfig current = server.config();
    if (current.source() == null) {
      return "the embedded default config cannot be reloaded";
    }
    try {
      server.reload(ConfigLoader.load(current.source()));
      return null;
    } catch (ConfigException e) {
      return e.getMessage();
    } catch (Exception e) {
      return "reload failed, config generation " + server.generation() + " stays in use: " + e.getMessage();
    }
  }

  @Override
  public long generation() {
    return server.generation();
  }
}
