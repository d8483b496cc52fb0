package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.TestCerts;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Connections that fail below HTTP (a TLS handshake with garbage, an HTTP/2 connection with a bad
 * preface) are routine on the internet: each is counted, and logged in at most one line, rate
 * limited per kind, never as a stack trace.
 */
@Timeout(30)
class BadConnectionLogTest {
  @TempDir Path dir;
  private GatehouseServer proxy;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private TestCerts certs;

  @BeforeEach
  void start() throws Exception {
    certs = TestCerts.selfSigned(dir);
    proxy = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %1$s, key: %2$s } ], alpn: [h2, http/1.1] }
          - name: plain-tls
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %1$s, key: %2$s } ] }
        """.formatted(certs.certificate(), certs.privateKey()), "test.yaml", Map.of()));
    appender.start();
    root.addAppender(appender);
  }

  @AfterEach
  void stop() {
    root.detachAppender(appender);
    proxy.close();
  }

  @Test
  void garbageInsteadOfAClientHelloIsOneLineAndACounter() throws Exception {
    for (String listener : new String[] {"public", "plain-tls"}) {
      for (int i = 0; i < 4; i++) {
        try (Socket s = new Socket("127.0.0.1", proxy.address(listener).getPort())) {
          s.setSoTimeout(5000);
          // Neither a TLS record nor an HTTP method (plain HTTP gets a 400 from TlsPortGuard).
          s.getOutputStream().write("\u0000\u0001garbage, not TLS\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
          s.getOutputStream().flush();
          readToEnd(s.getInputStream());
        }
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().tlsHandshakeFailures(listener) == 4);
    }
    assertThat(proxy.metrics().scrape()).contains("gatehouse_tls_handshake_failures_total{listener=\"public\"} 4.0");
    assertOneLinePerListener("TLS handshake failed", "NotSslRecordException");
  }

  @Test
  void aBadHttp2PrefaceIsOneLineAndACounter() throws Exception {
    for (int i = 0; i < 4; i++) {
      try (SSLSocket s = (SSLSocket) certs.clientSslContext().getSocketFactory()
          .createSocket("127.0.0.1", proxy.address("public").getPort())) {
        s.setSoTimeout(5000);
        SSLParameters params = s.getSSLParameters();
        params.setApplicationProtocols(new String[] {"h2"});
        s.setSSLParameters(params);
        s.startHandshake();
        assertThat(s.getApplicationProtocol()).isEqualTo("h2");
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        readToEnd(s.getInputStream());
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().protocolErrors("public", "h2") == 4);
    assertThat(proxy.metrics().scrape())
        .contains("gatehouse_protocol_errors_total{kind=\"h2\",listener=\"public\"} 4.0");
    assertThat(proxy.metrics().tlsHandshakeFailures("public")).isZero();
    assertOneLinePerListener("h2 protocol error", "Unexpected HTTP/1.x request");
  }

  /** Netty's tail and ALPN handler stay silent; one WARN line without a stack trace per listener. */
  private void assertOneLinePerListener(String what, String cause) {
    List<ILoggingEvent> events = List.copyOf(appender.list);
    assertThat(events).filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
        .allSatisfy(e -> {
          assertThat(e.getLoggerName()).isEqualTo("io.gatehouse.listener.ConnectionErrors");
          assertThat(e.getThrowableProxy()).isNull();
          assertThat(e.getFormattedMessage()).contains(what).contains(cause).doesNotContain("\n");
        })
        .extracting(e -> e.getFormattedMessage().contains("listener public:") ? "public" : "plain-tls")
        .doesNotHaveDuplicates()
        .isNotEmpty();
  }

  private static void readToEnd(InputStream in) {
    try {
      byte[] buf = new byte[4096];
      while (in.read(buf) >= 0) {
        // drain until the proxy closes
      }
    } catch (java.io.IOException e) {
      // a reset is a close too
    }
  }
}
