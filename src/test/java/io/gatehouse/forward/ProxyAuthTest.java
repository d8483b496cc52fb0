package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.Curl;
import io.gatehouse.testing.CurlResult;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyAuthTest {
  @TempDir Path dir;
  private FakeUpstream origin;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    Path users = dir.resolve("users.htpasswd");
    // Apache htpasswd -B writes $2y$; the proxy must accept it.
    Files.writeString(users, "# users\nalice:" + BCrypt.hashpw("wonderland", BCrypt.gensalt(6)).replace("$2a$", "$2y$")
        + "\nbob:" + BCrypt.hashpw("builder", BCrypt.gensalt(6)) + "\n");
    origin = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        auth: { realm: corp, users: %s }
        rules:
          - allow: { name: alice-only, users: [alice], hosts: ["127.0.0.1", "localhost"] }
        default: deny
        """.formatted(users));
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  private String url() {
    return "http://127.0.0.1:" + origin.port() + "/";
  }

  @Test
  void noCredentialsIs407WithChallenge() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET " + url() + " HTTP/1.1\r\nHost: x\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(407);
      assertThat(r.header("Proxy-Authenticate")).startsWith("Basic realm=\"corp\"");
      // the connection stays usable: the client retries with credentials on it
      client.send("GET " + url() + " HTTP/1.1\r\nHost: x\r\nProxy-Authorization: " + basic("alice", "wonderland") + "\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(origin.requests()).hasSize(1);
    assertThat(origin.lastRequest().header("Proxy-Authorization")).isNull();
  }

  @Test
  void curlWithRightPasswordGetsThrough() {
    CurlResult r = Curl.get(url()).proxy(proxy.address()).proxyUser("alice", "wonderland").run();
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.stdout()).isEqualTo("origin");
    assertThat(origin.lastRequest().header("Proxy-Authorization")).isNull();
    // a second request is answered from the verified-credentials cache
    assertThat(Curl.get(url()).proxy(proxy.address()).proxyUser("alice", "wonderland").run().status()).isEqualTo(200);
  }

  @Test
  void curlWithWrongPasswordOrUnknownUserIs407() {
    assertThat(Curl.get(url()).proxy(proxy.address()).proxyUser("alice", "nope").run().status()).isEqualTo(407);
    assertThat(Curl.get(url()).proxy(proxy.address()).proxyUser("mallory", "x").run().status()).isEqualTo(407);
    assertThat(Curl.get(url()).proxy(proxy.address()).run().status()).isEqualTo(407);
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void userNameIsAvailableToRules() {
    CurlResult bob = Curl.get(url()).proxy(proxy.address()).proxyUser("bob", "builder").run();
    assertThat(bob.status()).isEqualTo(403);
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void originsOwn401IsRelayed() {
    origin.respond(head -> Reply.status(401).header("WWW-Authenticate", "Basic realm=\"origin\""));
    CurlResult r = Curl.get(url()).proxy(proxy.address()).proxyUser("alice", "wonderland").run();
    assertThat(r.status()).isEqualTo(401);
  }

  @Test
  void connectTunnelWithCredentials() throws Exception {
    Path users = dir.resolve("users.htpasswd");
    TestCerts certs = TestCerts.selfSigned();
    try (FakeUpstream tls = FakeUpstream.startTls("tls-origin", certs);
        ProxyUnderTest tunnelProxy = ProxyUnderTest.start("""
            auth: { realm: corp, users: %s }
            connectPorts: [%d]
            rules:
              - allow: { name: alice-only, users: [alice], hosts: ["localhost"] }
            default: deny
            """.formatted(users, tls.port()))) {
      CurlResult denied = Curl.get("https://localhost:" + tls.port() + "/")
          .proxy(tunnelProxy.address()).proxytunnel().cacert(certs.certificate()).run();
      assertThat(denied.connectStatus()).isEqualTo(407);
      CurlResult ok = Curl.get("https://localhost:" + tls.port() + "/s")
          .proxy(tunnelProxy.address()).proxyUser("alice", "wonderland").proxytunnel().cacert(certs.certificate()).run();
      assertThat(ok.connectStatus()).isEqualTo(200);
      assertThat(ok.status()).isEqualTo(200);
      assertThat(ok.stdout()).isEqualTo("tls-origin");
    }
  }

  private static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }
}
