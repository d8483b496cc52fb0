package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real browser (headless Debian chromium) using Gatehouse as its proxy; skipped without one. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ChromiumTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @TempDir Path profile;

  @Test
  void pageLoadsThroughTheProxyAndABlockedSiteShowsThe403() throws Exception {
    assumeTrue(Files.isExecutable(CHROMIUM), "chromium is not installed");
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            rules:
              - deny: { name: blocklist, hosts: ["blocked.example", "*.ads.example"] }
              - allow: { name: local, hosts: ["127.0.0.1"] }
            default: deny
            """)) {
      origin.respond(head -> Reply.ok().header("Content-Type", "text/html; charset=utf-8")
          .body("<html><body><h1>Hello through Gatehouse</h1></body></html>"));

      String page = dumpDom(proxy.port(), "http://127.0.0.1:" + origin.port() + "/page");
      assertThat(page).contains("Hello through Gatehouse");
      RecordedRequest seen = origin.requests().stream().filter(r -> r.uri().equals("/page")).findFirst().orElseThrow();
      assertThat(seen.header("Via")).isEqualTo("1.1 gatehouse");
      assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + origin.port());

      String blocked = dumpDom(proxy.port(), "http://blocked.example/");
      assertThat(blocked).contains("403 Forbidden").contains("blocklist");
    }
  }

  private String dumpDom(int proxyPort, String url) throws IOException, InterruptedException {
    Path out = Files.createTempFile(profile.getParent(), "dom", ".html");
    Path err = Files.createTempFile(profile.getParent(), "chromium", ".err");
    List<String> command = List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
        "--proxy-server=http://127.0.0.1:" + proxyPort, "--proxy-bypass-list=<-loopback>", "--dump-dom", url);
    Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("chromium did not finish in 60s: " + Files.readString(err));
      }
    } finally {
      process.destroyForcibly();
    }
    return Files.readString(out, StandardCharsets.UTF_8);
  }
}
