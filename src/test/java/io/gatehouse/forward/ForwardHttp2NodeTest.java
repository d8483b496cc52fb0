package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real HTTP/2 proxy client, Node's {@code http2} module (its flow control, its CONNECT streams),
 * through a TLS forward listener offering h2. curl speaks HTTP/2 to a proxy only from 8.1
 * ({@code --proxy-http2}), and {@code java.net.http} not at all, so Node is the real client here.
 * Skipped where {@code node} is not installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwardHttp2NodeTest {
  /** args: proxyPort mode target [size]; prints one JSON line. */
  private static final String CLIENT = """
      const http2 = require('http2'), tls = require('tls'), crypto = require('crypto');
      const [port, mode, target, size] = process.argv.slice(2);
      const done = o => { console.log(JSON.stringify(o)); session.close(); };
      const session = http2.connect('https://127.0.0.1:' + port, { rejectUnauthorized: false });
      session.on('error', e => done({ error: 'session: ' + e.message }));
      if (mode === 'get') {
        const [authority, path] = [target.split('/')[0], '/' + target.split('/').slice(1).join('/')];
        const req = session.request({ ':method': 'GET', ':scheme': 'http', ':authority': authority, ':path': path });
        let status, body = '';
        req.on('response', h => status = h[':status']);
        req.on('data', d => body += d);
        req.on('end', () => done({ status, body }));
        req.on('error', e => done({ error: e.message }));
        req.end();
      } else {
        const req = session.request({ ':method': 'CONNECT', ':authority': target }, { endStream: false });
        req.on('error', e => done({ error: e.message }));
        req.on('response', h => {
          if (mode === 'tls') {
            const t = tls.connect({ socket: req, servername: 'localhost', rejectUnauthorized: false }, () =>
              t.write('GET /secure HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n'));
            let body = '';
            t.on('data', d => body += d);
            t.on('end', () => { t.end(); done({ status: h[':status'], body }); });
            t.on('error', e => done({ error: 'tls: ' + e.message }));
          } else {
            const up = crypto.createHash('sha256'), down = crypto.createHash('sha256');
            let received = 0, sent = 0;
            req.on('data', d => { down.update(d); received += d.length; });
            req.on('end', () => done({ status: h[':status'], sent, received,
              up: up.digest('hex'), down: down.digest('hex') }));
            const chunk = 64 * 1024;
            const write = () => {
              while (sent < Number(size)) {
                const b = crypto.randomBytes(Math.min(chunk, Number(size) - sent));
                up.update(b); sent += b.length;
                if (!req.write(b)) { req.once('drain', write); return; }
              }
              req.end();
            };
            write();
          }
        });
      }
      """;

  @TempDir Path dir;
  private TestCerts certs;
  private Path script;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeTrue(nodeInstalled(), "node is not installed");
    certs = TestCerts.selfSigned(dir);
    script = dir.resolve("client.js");
    Files.writeString(script, CLIENT);
  }

  @AfterEach
  void stopThreads() {
    threads.shutdownNow();
  }

  private ProxyUnderTest proxy(int port) throws Exception {
    return ProxyUnderTest.startYaml("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: egress
            bind: 127.0.0.1:0
            mode: forward
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
            forward:
              connectPorts: [%d]
              rules: [ { allow: { name: local, hosts: ["127.0.0.1", "localhost"] } } ]
        """.formatted(certs.certificate(), certs.privateKey(), port));
  }

  @Test
  void nodeGetsAnHttpPageThroughTheProxy() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("plain-origin");
        ProxyUnderTest proxy = proxy(origin.port())) {
      JsonNode r = node(proxy.port(), "get", "127.0.0.1:" + origin.port() + "/page");
      assertThat(r.path("error").isMissingNode()).as(r.toString()).isTrue();
      assertThat(r.get("status").asInt()).isEqualTo(200);
      assertThat(r.get("body").asText()).isEqualTo("plain-origin");
      assertThat(origin.lastRequest().uri()).isEqualTo("/page");
    }
  }

  @Test
  void nodeSpeaksTlsToAnOriginThroughAConnectStream() throws Exception {
    try (FakeUpstream origin = FakeUpstream.startTls("tls-origin", certs);
        ProxyUnderTest proxy = proxy(origin.port())) {
      JsonNode r = node(proxy.port(), "tls", "localhost:" + origin.port());
      assertThat(r.path("error").isMissingNode()).as(r.toString()).isTrue();
      assertThat(r.get("status").asInt()).isEqualTo(200);
      assertThat(r.get("body").asText()).startsWith("HTTP/1.1 200").endsWith("tls-origin");
      assertThat(origin.lastRequest().uri()).isEqualTo("/secure");
    }
  }

  /** 8 MiB up and back through an echoing origin, with Node's flow control: checksums match. */
  @Test
  void nodeTunnelsMebibytesBothWays() throws Exception {
    int size = 8 * 1024 * 1024;
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(server.getLocalPort())) {
      CompletableFuture<Long> echoed = CompletableFuture.supplyAsync(() -> echo(server), threads);
      JsonNode r = node(proxy.port(), "bulk", "127.0.0.1:" + server.getLocalPort(), String.valueOf(size));
      assertThat(r.path("error").isMissingNode()).as(r.toString()).isTrue();
      assertThat(r.get("status").asInt()).isEqualTo(200);
      assertThat(r.get("sent").asLong()).isEqualTo(size);
      assertThat(r.get("received").asLong()).isEqualTo(size);
      assertThat(r.get("down").asText()).isEqualTo(r.get("up").asText());
      assertThat(echoed.get(30, TimeUnit.SECONDS)).isEqualTo(size);
    }
  }

  private JsonNode node(int proxyPort, String... args) throws Exception {
    String[] command = new String[3 + args.length];
    command[0] = "node";
    command[1] = script.toString();
    command[2] = String.valueOf(proxyPort);
    System.arraycopy(args, 0, command, 3, args.length);
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try (InputStream in = process.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, threads);
    if (!process.waitFor(40, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("node did not finish: " + output.getNow(""));
    }
    String out = output.get(5, TimeUnit.SECONDS).strip();
    String last = out.lines().reduce((a, b) -> b).orElse("");
    assertThat(last).as("node printed: " + out).startsWith("{");
    return new ObjectMapper().readTree(last);
  }

  private static long echo(ServerSocket server) {
    try (Socket s = server.accept()) {
      s.setSoTimeout(30_000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        total += n;
      }
      s.shutdownOutput();
      return total;
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  private static boolean nodeInstalled() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
