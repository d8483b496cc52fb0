package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.Curl;
import io.gatehouse.testing.CurlResult;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real client: curl against the reverse listener (skipped where curl is not installed). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CurlClientTest {
  private FakeUpstream a;
  private FakeUpstream b;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    a = FakeUpstream.start("a");
    b = FakeUpstream.start("b");
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: web } ]
        clusters: [ { name: web, balancer: round_robin, endpoints: ["${A}", "${B}"] } ]
        limits: { maxBodyBytes: 1MiB }
        """, Map.of("A", a.address(), "B", b.address()));
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    a.close();
    b.close();
  }

  @BeforeEach
  void reset() {
    a.respond(head -> Reply.ok());
    b.respond(head -> Reply.ok());
  }

  private String url(String path) {
    return "http://127.0.0.1:" + proxy.port() + path;
  }

  @Test
  void get_is_spread_over_both_origins() {
    // One curl run, several URLs on one keep-alive connection: one event loop, strict alternation.
    CurlResult result = Curl.get(url("/1")).args(url("/2"), url("/3"), url("/4")).maxTime(Duration.ofSeconds(10)).run();
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).contains("a").contains("b");
  }

  @Test
  void post_body_arrives_upstream() {
    CurlResult result = Curl.get(url("/form")).data("name=gatehouse&x=1").run();
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.status()).isEqualTo(200);
    RecordedRequest last = a.requests().isEmpty() ? b.lastRequest()
        : b.requests().isEmpty() ? a.lastRequest()
        : a.lastRequest().uri().equals("/form") ? a.lastRequest() : b.lastRequest();
    assertThat(last.bodyAsString()).isEqualTo("name=gatehouse&x=1");
  }

  @Test
  void chunked_upload_with_expect_continue() {
    a.respond(head -> Reply.echo());
    b.respond(head -> Reply.echo());
    CurlResult result = Curl.get(url("/echo"))
        .header("Transfer-Encoding", "chunked")
        .header("Expect", "100-continue")
        .data("streamed through")
        .run();
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).isEqualTo("streamed through");
  }

  @Test
  void head_request() {
    a.respond(head -> Reply.ok().body("twelve bytes"));
    b.respond(head -> Reply.ok().body("twelve bytes"));
    CurlResult result = Curl.get(url("/")).args("-I").run();
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.status()).isEqualTo(200);
    assertThat(result.stdout()).containsIgnoringCase("content-length: 12");
  }

  @Test
  void upstream_failure_is_a_clean_502_for_curl() {
    a.respond(head -> Reply.reset());
    b.respond(head -> Reply.reset());
    CurlResult result = Curl.get(url("/boom")).run();
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.status()).isEqualTo(502);
  }

  @Test
  void local_reply_that_closes_is_received_whole(@TempDir Path dir) throws Exception {
    // 413 while curl is still sending: the lingering close keeps curl from seeing a reset.
    Path body = dir.resolve("body");
    Files.write(body, new byte[3 * 1024 * 1024]);
    CurlResult result = Curl.get(url("/too-big")).args("--data-binary", "@" + body).run();
    assertThat(result.status()).as(result.stderr()).isEqualTo(413);
    assertThat(result.stdout()).contains("413");
  }
}
