package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class FakeUpstreamTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT)
            .build();
    private FakeUpstream upstream;

    @BeforeEach
    void startUpstream() {
        upstream = FakeUpstream.start("alpha");
    }

    @AfterEach
    void stopUpstream() {
        upstream.close();
    }

    @Test
    void answersWithItsNameByDefaultAndRecordsTheRequest() throws Exception {
        HttpResponse<String> response = http.send(request("/hello?x=1")
                .header("X-Test", "yes")
                .POST(HttpRequest.BodyPublishers.ofString("payload"))
                .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("alpha");
        assertThat(response.headers().firstValue("X-Upstream")).hasValue("alpha");
        RecordedRequest recorded = upstream.lastRequest();
        assertThat(recorded.method()).isEqualTo("POST");
        assertThat(recorded.uri()).isEqualTo("/hello?x=1");
        assertThat(recorded.header("x-test")).isEqualTo("yes");
        assertThat(recorded.bodyAsString()).isEqualTo("payload");
        assertThat(recorded.bodyLength()).isEqualTo(7);
        assertThat(recorded.complete()).isTrue();
        assertThat(recorded.connectionId()).isEqualTo(1);
    }

    @Test
    void keepAliveRequestsShareOneConnection() throws Exception {
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            for (int i = 0; i < 3; i++) {
                client.send("GET /" + i + " HTTP/1.1\r\nHost: x\r\n\r\n");
                assertThat(client.readResponse().bodyAsString()).isEqualTo("alpha");
            }
        }
        assertThat(upstream.requests()).extracting(RecordedRequest::connectionId).containsOnly(1);
        assertThat(upstream.requests()).extracting(RecordedRequest::indexOnConnection).containsExactly(0, 1, 2);
        assertThat(upstream.connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void respondsPerRequestFromTheScript() throws Exception {
        upstream.respond(req -> req.uri().equals("/down")
                ? Reply.status(503).header("Retry-After", "1").body("down")
                : Reply.ok());

        HttpResponse<String> down = http.send(request("/down").build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> up = http.send(request("/up").build(), HttpResponse.BodyHandlers.ofString());

        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(down.body()).isEqualTo("down");
        assertThat(up.statusCode()).isEqualTo(200);
    }

    @Test
    void respondsInOrderThenRepeatsTheLastReply() throws Exception {
        upstream.respondInOrder(Reply.status(502), Reply.status(503), Reply.ok());

        assertThat(statuses(4)).containsExactly(502, 503, 200, 200);
    }

    @Test
    void resetReplyFailsTheClient() {
        upstream.respond(req -> Reply.reset());

        assertThatThrownBy(() -> http.send(request("/").build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
        await().atMost(WAIT).until(() -> upstream.openConnections() == 0);
    }

    @Test
    void resetReplyIsAnErrorForARawClientToo() throws Exception {
        upstream.respond(req -> Reply.reset());
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            assertThatThrownBy(client::readResponse).isInstanceOf(IOException.class);
        }
    }

    @Test
    void chunkedBodyAndTrailersArrive() throws Exception {
        upstream.respond(req -> Reply.status(200).chunks("hello, ", "world").trailer("X-Checksum", "abc"));
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n");

            RawResponse response = client.readResponse();

            assertThat(response.framing()).isEqualTo(RawResponse.Framing.CHUNKED);
            assertThat(response.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(response.bodyAsString()).isEqualTo("hello, world");
            assertThat(response.trailer("x-checksum")).isEqualTo("abc");
        }
    }

    @Test
    void wrongContentLengthTruncatesThenCloses() throws Exception {
        upstream.respond(req -> Reply.status(200).body("short").declaredContentLength(100));
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            assertThatThrownBy(client::readResponse).hasMessageContaining("after 5 of 100 bytes");
        }
    }

    @Test
    void slowReplyTripsAClientTimeout() {
        upstream.respond(req -> Reply.slow(Duration.ofSeconds(3)));

        assertThatThrownBy(() -> http.send(request("/").timeout(Duration.ofMillis(200)).build(),
                HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(HttpTimeoutException.class);
    }

    @Test
    void closeIdleConnectionsSparesConnectionsInARequest() throws Exception {
        try (RawHttpClient idle = RawHttpClient.connect(upstream.port());
                RawHttpClient busy = RawHttpClient.connect(upstream.port())) {
            idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            idle.readResponse();
            busy.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
            await().atMost(WAIT).until(() -> upstream.openConnections() == 2);
            await().atMost(WAIT).until(() -> upstream.connectionsAccepted() == 2);

            assertThat(upstream.closeIdleConnections()).isEqualTo(1);

            await().atMost(WAIT).until(idle::isClosedByPeer);
            assertThat(busy.isClosedByPeer()).isFalse();
            busy.send("defghij");
            assertThat(busy.readResponse().status()).isEqualTo(200);
        }
        assertThat(upstream.requests()).extracting(RecordedRequest::bodyAsString).containsExactly("", "abcdefghij");
    }

    @Test
    void keepAliveTimeoutClosesIdleConnections() throws Exception {
        upstream.setKeepAliveTimeout(Duration.ofMillis(100));
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.readResponse().status()).isEqualTo(200);

            await().atMost(WAIT).until(client::isClosedByPeer);
        }
    }

    @Test
    void closeAfterAnnouncesAndCloses() throws Exception {
        upstream.respond(req -> Reply.ok().closeAfter());
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            assertThat(client.readResponse().header("Connection")).isEqualTo("close");
            await().atMost(WAIT).until(client::isClosedByPeer);
        }
    }

    @Test
    void halfCloseSendsFinWithoutResponseAndKeepsTheConnection() throws Exception {
        upstream.respond(req -> Reply.halfClose());
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            assertThat(client.readAllUntilClose()).isEmpty();
            assertThat(upstream.openConnections()).isEqualTo(1);
        }
        await().atMost(WAIT).until(() -> upstream.openConnections() == 0);
    }

    @Test
    void sendsInformationalResponsesBeforeTheFinalOne() throws Exception {
        upstream.respond(req -> Reply.ok().informational(103, "Link", "</style.css>; rel=preload"));
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            RawResponse response = client.readResponse();

            assertThat(response.informational()).extracting(RawResponse::status).containsExactly(103);
            assertThat(response.informational().get(0).header("Link")).isEqualTo("</style.css>; rel=preload");
            assertThat(response.status()).isEqualTo(200);
        }
    }

    @Test
    void answersExpectContinueWith100() throws Exception {
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");

            RawResponse response = client.readResponse();

            assertThat(response.informational()).extracting(RawResponse::status).containsExactly(100);
            assertThat(response.status()).isEqualTo(200);
        }
        assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("abc");
    }

    @Test
    void canRefuseAnExpectationWithoutReadingTheBody() throws Exception {
        upstream.respond(req -> Reply.status(417).withoutContinue().closeAfter());
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");

            RawResponse response = client.readResponse();

            assertThat(response.informational()).isEmpty();
            assertThat(response.status()).isEqualTo(417);
        }
    }

    @Test
    void echoStreamsTheRequestBodyBack() throws Exception {
        upstream.respond(req -> Reply.echo());
        long size = 8L * 1024 * 1024;

        HttpResponse<InputStream> response = http.send(request("/echo")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedInputStream(size)))
                .build(), HttpResponse.BodyHandlers.ofInputStream());

        assertThat(countAndVerify(response.body())).isEqualTo(size);
        assertThat(upstream.lastRequest().bodyLength()).isEqualTo(size);
    }

    @Test
    void streamsAHugeGeneratedBody() throws Exception {
        long size = 100L * 1024 * 1024;
        upstream.respond(req -> Reply.stream(size));

        HttpResponse<InputStream> response = http.send(request("/big").build(), HttpResponse.BodyHandlers.ofInputStream());

        assertThat(response.headers().firstValueAsLong("Content-Length")).hasValue(size);
        assertThat(countAndVerify(response.body())).isEqualTo(size);
    }

    @Test
    void streamsAGeneratedBodyChunkedWithTrailers() throws Exception {
        upstream.respond(req -> Reply.stream(200_000).trailer("X-Done", "yes"));
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            RawResponse response = client.readResponse();

            assertThat(response.body()).hasSize(200_000);
            assertThat(response.trailer("X-Done")).isEqualTo("yes");
        }
    }

    @Test
    void countsAHugeUploadButKeepsOnlyItsPrefix() throws Exception {
        long size = 100L * 1024 * 1024;

        // 100 MiB under paranoid leak detection on a loaded 2-core machine: more than WAIT.
        HttpResponse<String> response = http.send(request("/upload")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedInputStream(size)))
                .timeout(Duration.ofSeconds(45))
                .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        RecordedRequest recorded = upstream.lastRequest();
        assertThat(recorded.bodyLength()).isEqualTo(size);
        assertThat(recorded.bodyPrefix()).hasSize(FakeUpstream.BODY_PREFIX_LIMIT);
        assertThat(recorded.bodyTruncated()).isTrue();
    }

    @Test
    void headResponseHasNoBody() throws Exception {
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");

            RawResponse head = client.readResponse("HEAD");
            assertThat(head.header("Content-Length")).isEqualTo("5");
            assertThat(head.body()).isEmpty();
            assertThat(client.readResponse().bodyAsString()).isEqualTo("alpha");
        }
    }

    @Test
    void recordsARequestCutShortByTheClient() throws Exception {
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
        }

        await().atMost(WAIT).until(() -> upstream.requests().size() == 1);
        assertThat(upstream.lastRequest().complete()).isFalse();
        assertThat(upstream.lastRequest().bodyLength()).isEqualTo(3);
    }

    @Test
    void killClosesEveryConnectionAndStopsAccepting() throws Exception {
        try (RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            client.readResponse();
            int port = upstream.port();

            upstream.kill();

            await().atMost(WAIT).until(client::isClosedByPeer);
            assertThat(upstream.openConnections()).isZero();
            // Another process on this machine may bind the freed port at once, so a refused
            // connection is not guaranteed; what is guaranteed is that this upstream accepts nothing.
            try (RawHttpClient late = RawHttpClient.connect(port)) {
                assertThat(late).isNotNull();
            } catch (IOException expected) {
                assertThat(expected).isInstanceOf(java.net.ConnectException.class);
            }
            assertThat(upstream.connectionsAccepted()).isEqualTo(1);
        }
    }

    @Test
    void servesTls(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        TestCerts certs = TestCerts.selfSigned(dir);
        try (FakeUpstream tls = FakeUpstream.startTls("secure", certs)) {
            HttpClient client = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .sslContext(certs.clientSslContext())
                    .connectTimeout(WAIT)
                    .build();

            HttpResponse<String> response = client.send(HttpRequest.newBuilder(
                    URI.create("https://localhost:" + tls.port() + "/")).timeout(WAIT).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(response.body()).isEqualTo("secure");
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + upstream.address() + path)).timeout(WAIT);
    }

    private java.util.List<Integer> statuses(int count) throws Exception {
        java.util.List<Integer> statuses = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            statuses.add(http.send(request("/").build(), HttpResponse.BodyHandlers.discarding()).statusCode());
        }
        return statuses;
    }

    private static long countAndVerify(InputStream in) throws IOException {
        try (in) {
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                for (int i = 0; i < n; i += 4093) {
                    if (buffer[i] != GeneratedBody.byteAt(total + i)) {
                        throw new AssertionError("byte " + (total + i) + " is " + buffer[i]);
                    }
                }
                total += n;
            }
            return total;
        }
    }

    /** The same bytes as {@link GeneratedBody}, as an upload source that holds nothing in memory. */
    private static final class GeneratedInputStream extends InputStream {
        private final long length;
        private long position;

        GeneratedInputStream(long length) {
            this.length = length;
        }

        @Override
        public int read() {
            return position < length ? GeneratedBody.byteAt(position++) : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= length) {
                return -1;
            }
            int n = (int) Math.min(len, length - position);
            for (int i = 0; i < n; i++) {
                b[off + i] = GeneratedBody.byteAt(position++);
            }
            return n;
        }
    }

}
