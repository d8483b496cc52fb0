package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * `tls.sessionTicketKeys`: instances (a restarted process, or the members of a fleet) given the same
 * key files resume each other's TLS sessions; other keys, or none, start new ones. Each instance here
 * is its own server with its own TLS context and session cache, so only the ticket can carry a
 * session over. The client is `openssl s_client`, which offers a saved session to any server and
 * says whether it was reused, in TLS 1.2 (tickets) and TLS 1.3 (resumption by PSK).
 */
@Timeout(60)
class TlsSessionTicketKeysTest {
  @TempDir Path dir;

  @Test
  void instancesWithTheSameKeysResumeEachOthersSessionsAndAKeyCanBeRotatedIn() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    Path first = key("first.key");
    Path second = key("second.key");
    try (FakeUpstream origin = FakeUpstream.start("app")) {
      for (String version : List.of("TLSv1.2", "TLSv1.3")) {
        Path session = dir.resolve(version + ".session.pem");
        try (Instance a = new Instance(certs, origin, first)) {
          assertThat(sClient(a.port(), version, "-sess_out", session)).contains("New, " + version);
        }
        try (Instance b = new Instance(certs, origin, first)) {
          assertThat(sClient(b.port(), version, "-sess_in", session)).as("same key: resumed").contains("Reused, " + version);
        }
        try (Instance c = new Instance(certs, origin, second)) {
          assertThat(sClient(c.port(), version, "-sess_in", session)).as("another key: a new session")
              .contains("New, " + version);
        }
        try (Instance d = new Instance(certs, origin)) {
          assertThat(sClient(d.port(), version, "-sess_in", session)).as("the library's own keys: a new session")
              .contains("New, " + version);
        }
        try (Instance e = new Instance(certs, origin, second, first)) {
          assertThat(sClient(e.port(), version, "-sess_in", session)).as("rotated in: the older key still decrypts")
              .contains("Reused, " + version);
        }
      }
    }
  }

  @Test
  void aKeyFileOfAnotherSizeIsAConfigProblem() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    Path shortKey = dir.resolve("short.key");
    Files.write(shortKey, new byte[32]);
    assertThatThrownBy(() -> ConfigLoader.parse(yaml(certs, "127.0.0.1:9", List.of(shortKey)), "t.yaml", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("listeners[0].tls.sessionTicketKeys[0]: " + shortKey + " has 32 bytes (expected: files of 48");
  }

  private Path key(String name) throws IOException {
    byte[] bytes = new byte[48];
    new SecureRandom().nextBytes(bytes);
    return Files.write(dir.resolve(name), bytes);
  }

  private static String yaml(TestCerts certs, String origin, List<Path> keys) {
    return """
        admin: { bind: 127.0.0.1:0 }
        accessLog: { enabled: false }
        listeners:
          - { name: public, bind: 127.0.0.1:0, mode: reverse, tls: { certificates: [ { cert: %s, key: %s } ], sessionTicketKeys: %s } }
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), keys, origin);
  }

  /** One Gatehouse with a TLS listener and the given ticket key files. */
  private static final class Instance implements AutoCloseable {
    private final GatehouseServer server;

    Instance(TestCerts certs, FakeUpstream origin, Path... keys) throws Exception {
      server = GatehouseServer.start(ConfigLoader.parse(yaml(certs, origin.address().toString(), List.of(keys)),
          "t.yaml", Map.of()));
    }

    int port() {
      return server.address("public").getPort();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /**
   * A request over {@code openssl s_client} in {@code version}, saving or offering {@code session};
   * what it printed. The request makes the server write, which sends TLS 1.3's session tickets.
   */
  private static String sClient(int port, String version, String sessionOption, Path session) throws Exception {
    Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
        version.equals("TLSv1.2") ? "-tls1_2" : "-tls1_3", "-ign_eof", sessionOption, session.toString())
        .redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(out).as("answered").contains("HTTP/1.1 200");
    return out;
  }
}
