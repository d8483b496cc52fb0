package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class RawHttpClientTest {

    @Test
    void everyReadIsBounded() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.start().respond(req -> Reply.hang());
                RawHttpClient client = RawHttpClient.connect(upstream.port()).timeout(Duration.ofMillis(200))) {
            client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

            assertThatThrownBy(client::readResponse).isInstanceOf(SocketTimeoutException.class);
            assertThat(client.isClosedByPeer()).isFalse();
        }
    }

    @Test
    void readsResponsesDelimitedByClose() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.start()
                        .respond(req -> Reply.status(200).body("until close").closeDelimited());
                RawHttpClient client = RawHttpClient.connect(upstream.port())) {
            client.send("GET / HTTP/1.0\r\n\r\n");

            RawResponse response = client.readResponse();

            assertThat(response.framing()).isEqualTo(RawResponse.Framing.CLOSE);
            assertThat(response.bodyAsString()).isEqualTo("until close");
        }
    }
}
