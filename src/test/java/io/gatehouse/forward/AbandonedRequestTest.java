package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.RawHttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/** A client that leaves while its login is being checked is still recorded (access log, metrics). */
@Timeout(30)
class AbandonedRequestTest {
  @TempDir Path dir;

  @Test
  void clientLeavingDuringThePasswordCheckIsRecorded() throws Exception {
    Path users = dir.resolve("users.htpasswd");
    // A high bcrypt cost keeps the check running well after the client has gone.
    Files.writeString(users, "alice:" + BCrypt.hashpw("wonderland", BCrypt.gensalt(13)) + "\n");
    try (ProxyUnderTest proxy = ProxyUnderTest.start("""
        auth: { users: %s }
        rules:
          - allow: { name: all-local, hosts: ["127.0.0.1"] }
        """.formatted(users))) {
      String credentials = Base64.getEncoder().encodeToString("alice:wonderland".getBytes(StandardCharsets.UTF_8));
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic " + credentials
            + "\r\n\r\n");
        // Gone for good: a reset, not a FIN (a FIN after a complete request is a half-close,
        // which is answered, RFC 9112 §9.6).
        client.socket().setSoLinger(true, 0);
      } // closed at once, long before bcrypt at cost 13 finishes
      await().atMost(Duration.ofSeconds(10))
          .until(() -> proxy.server.metrics().requests("egress", "", "", 0) == 1);
    }
  }
}
