package io.gatehouse.testing;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.lifecycle.GatehouseServer;
import io.gatehouse.metrics.ProxyMetrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

/**
 * A Gatehouse started in-process from inline YAML, for end-to-end tests:
 *
 * <pre>{@code
 * try (FakeUpstream a = FakeUpstream.start("a");
 *      ProxyUnderTest proxy = ProxyUnderTest.start("""
 *          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
 *          routes: [ { name: all, cluster: c } ]
 *          clusters: [ { name: c, endpoints: ["${A}"] } ]
 *          """, Map.of("A", a.address()))) {
 *   RawResponse r = proxy.get("example.com", "/");
 * }
 * }</pre>
 *
 * <p>Placeholders are the config's own {@code ${NAME}} substitution, fed from {@code vars} instead
 * of the environment. Without an {@code admin:} section the admin API binds 127.0.0.1:0, so tests
 * never collide on a fixed port.
 */
public final class ProxyUnderTest implements AutoCloseable {
  private final GatehouseServer server;
  private final String firstListener;
  private boolean stopped;

  private ProxyUnderTest(GatehouseServer server) {
    this.server = server;
    this.firstListener = server.config().listeners().get(0).name();
  }

  public static ProxyUnderTest start(String yaml) throws Exception {
    return start(yaml, Map.of());
  }

  public static ProxyUnderTest start(String yaml, Map<String, String> vars) throws Exception {
    String text = yaml.lines().anyMatch(line -> line.startsWith("admin:"))
        ? yaml
        : "admin: { bind: 127.0.0.1:0 }\n" + yaml;
    GatehouseConfig config = ConfigLoader.parse(text, "test.yaml", vars);
    return new ProxyUnderTest(GatehouseServer.start(config));
  }

  /** Port of the first listener. */
  public int port() {
    return port(firstListener);
  }

  public int port(String listener) {
    return server.address(listener).getPort();
  }

  public InetSocketAddress address() {
    return server.address(firstListener);
  }

  /** {@code http://127.0.0.1:port} of the first listener plus {@code path}. */
  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port() + path);
  }

  public ProxyMetrics metrics() {
    return server.metrics();
  }

  public GatehouseServer server() {
    return server;
  }

  /** A raw client connected to the first listener. */
  public RawHttpClient connect() throws IOException {
    return RawHttpClient.connect(port());
  }

  /** One {@code GET path} with {@code Host: host} on a fresh connection. */
  public RawResponse get(String host, String path) throws IOException {
    try (RawHttpClient client = connect()) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      return client.readResponse();
    }
  }

  /** An HTTP/1.1 client (java.net.http's default, HTTP/2, would try an h2c upgrade). */
  public static HttpClient httpClient() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** Graceful stop: stop accepting, let in-flight exchanges finish within {@code deadline}. */
  public void stop(Duration deadline) {
    if (!stopped) {
      stopped = true;
      server.stop(deadline);
    }
  }

  @Override
  public void close() {
    if (!stopped) {
      stopped = true;
      server.close();
    }
  }
}
