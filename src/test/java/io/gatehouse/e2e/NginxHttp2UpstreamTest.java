package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.ProxyUnderTest;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster with {@code protocol: h2} in front of a real nginx (Debian's package) listening for
 * HTTP/2 with prior knowledge ({@code listen ... http2} without TLS): nginx must see HTTP/2 requests,
 * serve a file whole through the stream, and see concurrent requests arrive on few connections.
 * Skipped where nginx is not installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NginxHttp2UpstreamTest {

  @Test
  void nginx_serves_h2c_streams_through_gatehouse(@TempDir Path dir) throws Exception {
    Path nginx = which("nginx");
    assumeTrue(nginx != null, "nginx not installed");
    int port = FreePorts.take();
    Path files = Files.createDirectories(dir.resolve("files"));
    byte[] file = new byte[300_000];
    new Random(7).nextBytes(file);
    Files.write(files.resolve("blob.bin"), file);
    Path config = dir.resolve("nginx.conf");
    String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
    Files.writeString(config, """
        %sworker_processes 1;
        daemon off;
        pid %s/nginx.pid;
        error_log %s/error.log notice;
        events { worker_connections 256; }
        http {
          access_log off;
          client_body_temp_path %s/body;
          proxy_temp_path %s/proxy;
          fastcgi_temp_path %s/fastcgi;
          uwsgi_temp_path %s/uwsgi;
          scgi_temp_path %s/scgi;
          server {
            listen 127.0.0.1:%d http2;
            location = /proto { return 200 "$server_protocol $request_method $host $request_uri"; }
            location = /conn { return 200 "$connection"; }
            location /files/ { alias %s/; }
          }
        }
        """.formatted(user, dir, dir, dir, dir, dir, dir, dir, port, files));
    Process process = new ProcessBuilder(nginx.toString(), "-c", config.toString(), "-p", dir.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("nginx.out").toFile()).start();
    try (ProxyUnderTest proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: nginx } ]
        clusters: [ { name: nginx, protocol: h2, endpoints: ["127.0.0.1:${PORT}"] } ]
        """, Map.of("PORT", Integer.toString(port)))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> canConnect(port));
      HttpClient client = ProxyUnderTest.httpClient();

      HttpResponse<String> proto = client.send(HttpRequest.newBuilder(proxy.uri("/proto?x=1")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(proto.statusCode()).as(Files.readString(dir.resolve("error.log"))).isEqualTo(200);
      assertThat(proto.body()).isEqualTo("HTTP/2.0 GET 127.0.0.1 /proto?x=1"); // nginx's $host: :authority without the port

      HttpResponse<byte[]> blob = client.send(HttpRequest.newBuilder(proxy.uri("/files/blob.bin")).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(blob.statusCode()).isEqualTo(200);
      assertThat(blob.body()).isEqualTo(file);

      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/conn")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      Set<String> connections = new HashSet<>();
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        HttpResponse<String> response = call.get(20, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(200);
        connections.add(response.body());
      }
      // nginx numbers its connections: 30 requests came on one connection per event loop at most.
      assertThat(connections.size()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    } finally {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Path which(String name) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static boolean canConnect(int port) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
