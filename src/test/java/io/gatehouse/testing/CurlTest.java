package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class CurlTest {

    @Test
    void reportsStatusBodyAndExitCode() {
        try (FakeUpstream upstream = FakeUpstream.start("alpha")) {
            upstream.respond(req -> Reply.status(418).body("teapot"));

            CurlResult result = Curl.get("http://" + upstream.address() + "/brew").run();

            assertThat(result.exitCode()).isZero();
            assertThat(result.status()).isEqualTo(418);
            assertThat(result.stdout()).isEqualTo("teapot");
            assertThat(result.connectStatus()).isZero();
        }
    }

    @Test
    void sendsAbsoluteFormAndCredentialsToAProxy() {
        try (FakeUpstream proxy = FakeUpstream.start("proxy")) {
            CurlResult result = Curl.get("http://origin.invalid/path")
                    .proxy(proxy.address())
                    .proxyUser("alice", "secret")
                    .run();

            assertThat(result.status()).isEqualTo(200);
            RecordedRequest seen = proxy.lastRequest();
            assertThat(seen.uri()).isEqualTo("http://origin.invalid/path");
            assertThat(seen.header("Proxy-Authorization")).isEqualTo("Basic YWxpY2U6c2VjcmV0");
        }
    }

    @Test
    void tunnelsWithConnectWhenAsked() {
        try (FakeUpstream proxy = FakeUpstream.start("proxy")) {
            proxy.respond(req -> Reply.status(407).header("Proxy-Authenticate", "Basic realm=\"gh\""));

            CurlResult result = Curl.get("http://origin.invalid/").proxy(proxy.address()).proxytunnel().run();

            assertThat(result.exitCode()).isNotZero();
            assertThat(result.connectStatus()).isEqualTo(407);
            assertThat(proxy.lastRequest().method()).isEqualTo("CONNECT");
            assertThat(proxy.lastRequest().uri()).isEqualTo("origin.invalid:80");
        }
    }

    @Test
    void trustsATestCertificate(@TempDir Path dir) {
        TestCerts certs = TestCerts.selfSigned(dir);
        try (FakeUpstream upstream = FakeUpstream.startTls("secure", certs)) {
            CurlResult result = Curl.get("https://localhost:" + upstream.port() + "/").cacert(certs.certificate()).run();

            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(result.stdout()).isEqualTo("secure");
        }
    }

    @Test
    void postsTheBodyVerbatim() {
        try (FakeUpstream upstream = FakeUpstream.start("alpha")) {
            CurlResult result = Curl.get("http://" + upstream.address() + "/").data("@not-a-file").run();

            assertThat(result.status()).isEqualTo(200);
            assertThat(upstream.lastRequest().method()).isEqualTo("POST");
            assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("@not-a-file");
        }
    }

    @Test
    void failsToConnectWithANonZeroExit() {
        int port;
        try (FakeUpstream upstream = FakeUpstream.start()) {
            port = upstream.port();
        }

        CurlResult result = Curl.get("http://127.0.0.1:" + port + "/").run();

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.status()).isZero();
    }
}
