package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload keeps a TLS listener's context while its TLS settings and files are the same, so clients
 * resume their TLS sessions (the session cache and ticket keys live in the context) instead of all
 * paying a full handshake after it; a certificate renewed on disk is served from the reload on.
 * A JDK client shows a resumed TLS 1.2 session by its creation time: the first handshake's.
 */
@Timeout(30)
class TlsSessionReloadTest {
  @TempDir Path dir;

  @Test
  void aReloadKeepsTlsSessionsUntilTheCertificateChanges() throws Exception {
    TestCerts certs = TestCerts.selfSigned(Files.createDirectories(dir.resolve("first")), TestCerts.KeyType.RSA);
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b")) {
      GatehouseServer server = GatehouseServer.start(ConfigLoader.parse(yaml(certs, a), "t.yaml", Map.of()));
      try {
        int port = server.address("public").getPort();
        SSLContext client = certs.clientSslContext(); // its session cache is the client's memory of sessions
        long session = handshake(client, port);
        assertThat(handshake(client, port)).as("the control: a second connection resumes").isEqualTo(session);

        server.reload(ConfigLoader.parse(yaml(certs, b), "t.yaml", Map.of())); // another cluster, same TLS
        assertThat(handshake(client, port)).as("resumed after a reload that kept the TLS settings").isEqualTo(session);

        TestCerts renewed = TestCerts.selfSigned(Files.createDirectories(dir.resolve("renewed")), TestCerts.KeyType.RSA);
        Files.copy(renewed.certificate(), certs.certificate(), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(renewed.privateKey(), certs.privateKey(), StandardCopyOption.REPLACE_EXISTING);
        server.reload(ConfigLoader.parse(yaml(certs, b), "t.yaml", Map.of()));
        assertThatThrownBy(() -> handshake(client, port))
            .as("the old certificate is no longer served, and its sessions end with it").isInstanceOf(SSLException.class);
        SSLContext renewedClient = renewed.clientSslContext();
        long renewedSession = handshake(renewedClient, port);
        assertThat(handshake(renewedClient, port)).isEqualTo(renewedSession);
      } finally {
        server.close();
      }
    }
  }

  private static String yaml(TestCerts certs, FakeUpstream origin) {
    return """
        admin: { bind: 127.0.0.1:0 }
        accessLog: { enabled: false }
        listeners:
          - { name: public, bind: 127.0.0.1:0, mode: reverse, tls: { certificates: [ { cert: %s, key: %s } ] } }
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), origin.address());
  }

  /** A TLS 1.2 handshake; the session's creation time (a resumed session keeps its first one). */
  private static long handshake(SSLContext client, int port) throws IOException, InterruptedException {
    Thread.sleep(5); // a new session's creation time never equals an earlier one's
    try (SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket("localhost", port)) {
      socket.setSoTimeout(10_000);
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.startHandshake();
      return socket.getSession().getCreationTime();
    }
  }
}
