package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ConfigLoader;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A listener with several certificates picks one by the client's SNI name. */
@Timeout(30)
class SniTest {
  @TempDir Path dir;

  private Path[] cert(String name, String san) throws Exception {
    Path key = dir.resolve(name + ".key");
    Path cert = dir.resolve(name + ".pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "2",
        "-subj", "/CN=" + name, "-addext", "subjectAltName=" + san).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    return new Path[] {cert, key};
  }

  private static String subjectFor(int port, String serverName) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String a) {}
      public void checkServerTrusted(X509Certificate[] c, String a) {}
      public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
    }}, null);
    try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      SSLParameters params = socket.getSSLParameters();
      params.setServerNames(List.of(new SNIHostName(serverName)));
      socket.setSSLParameters(params);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
  }

  @Test
  void certificateIsChosenByServerName() throws Exception {
    Path[] a = cert("alpha", "DNS:alpha.test");
    Path[] b = cert("beta", "DNS:*.beta.test");
    GatehouseServer proxy = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s }, { cert: %s, key: %s } ] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "127.0.0.1:9" ] } ]
        """.formatted(a[0], a[1], b[0], b[1]), "test.yaml", Map.of()));
    try {
      int port = proxy.address("public").getPort();
      assertThat(subjectFor(port, "alpha.test")).isEqualTo("CN=alpha");
      assertThat(subjectFor(port, "www.beta.test")).isEqualTo("CN=beta");
      assertThat(subjectFor(port, "unknown.test")).as("fallback: the first certificate").isEqualTo("CN=alpha");
    } finally {
      proxy.close();
    }
  }
}
