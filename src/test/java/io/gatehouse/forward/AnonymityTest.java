package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AnonymityTest {
  private static final String RULES = """
      rules:
        - allow: { name: local, hosts: ["127.0.0.1"] }
      """;

  private static RecordedRequest relay(String forwardBlock, FakeUpstream origin, String extraHeaders) throws Exception {
    return relay(forwardBlock, origin, "HTTP/1.1", extraHeaders);
  }

  private static RecordedRequest relay(String forwardBlock, FakeUpstream origin, String version, String extraHeaders)
      throws Exception {
    try (ProxyUnderTest proxy = ProxyUnderTest.start(forwardBlock);
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET http://127.0.0.1:" + origin.port() + "/ " + version + "\r\nHost: x\r\n" + extraHeaders
          + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
      return origin.lastRequest();
    }
  }

  @Test
  void anonymousSendsNothingIdentifying() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      RecordedRequest seen = relay("anonymize: true\n" + RULES, origin,
          "X-Forwarded-For: 10.1.1.1\r\nForwarded: for=10.1.1.1\r\nVia: 1.1 inner\r\nFrom: me@example.com\r\n"
              + "X-Real-IP: 10.1.1.1\r\nUser-Agent: test\r\n");
      assertThat(seen.headers().names()).map(String::toLowerCase)
          .doesNotContain("via", "x-forwarded-for", "forwarded", "from", "x-real-ip", "proxy-authorization",
              "proxy-connection");
      assertThat(seen.header("User-Agent")).isEqualTo("test");
    }
  }

  @Test
  void notAnonymousAddsViaAndXForwardedForAsSquidDoes() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      RecordedRequest seen = relay("anonymize: false\n" + RULES, origin,
          "X-Forwarded-For: 10.1.1.1\r\nX-Forwarded-For: 10.2.2.2\r\n");
      assertThat(seen.header("Via")).isEqualTo("1.1 gatehouse");
      assertThat(seen.header("X-Forwarded-For")).as("every line kept, in order").isEqualTo("10.1.1.1, 10.2.2.2, 127.0.0.1");
      assertThat(seen.header("Proxy-Authorization")).isNull();
      assertThat(seen.header("Proxy-Connection")).isNull();
    }
  }

  /** RFC 9110 §7.6.3: Via names the protocol the request was received in. */
  @Test
  void viaNamesHttp10ForAnHttp10Request() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin")) {
      RecordedRequest seen = relay("anonymize: false\n" + RULES, origin, "HTTP/1.0", "Via: 1.0 inner\r\n");
      assertThat(seen.header("Via")).isEqualTo("1.0 inner, 1.0 gatehouse");
    }
  }
}
