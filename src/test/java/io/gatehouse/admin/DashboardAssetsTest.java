package io.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.io.InputStream;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The dashboard's static shell over plain HTTP: types, caching, security headers, the fixed name table. */
@Timeout(30)
class DashboardAssetsTest {
  private static FakeUpstream upstream;
  private static ProxyUnderTest proxy;

  @BeforeAll
  static void start() throws Exception {
    upstream = FakeUpstream.start("a");
    proxy = ProxyUnderTest.start("""
        admin: { bind: 127.0.0.1:0, token: t0ken }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: app, cluster: c } ]
        clusters: [ { name: c, endpoints: ["${A}"] } ]
        """, Map.of("A", upstream.address()));
  }

  @AfterAll
  static void stop() {
    proxy.close();
    upstream.close();
  }

  private static RawResponse send(String method, String target, String extraHeaders) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.server().adminAddress().getPort())) {
      client.send(method + " " + target + " HTTP/1.1\r\nHost: admin\r\n" + extraHeaders + "\r\n");
      return client.readResponse(method);
    }
  }

  @ParameterizedTest
  @CsvSource({
      "/, text/html; charset=utf-8",
      "/ui/app.js, text/javascript; charset=utf-8",
      "/ui/view.js, text/javascript; charset=utf-8",
      "/ui/charts.js, text/javascript; charset=utf-8",
      "/ui/app.css, text/css; charset=utf-8",
      "/ui/uPlot.esm.js, text/javascript; charset=utf-8",
      "/ui/uPlot.min.css, text/css; charset=utf-8",
  })
  void every_asset_is_public_typed_revalidated_and_locked_down(String path, String type) throws Exception {
    RawResponse r = send("GET", path, "");

    assertThat(r.status()).as("the shell needs no token: it holds no data").isEqualTo(200);
    assertThat(r.header("Content-Type")).isEqualTo(type);
    assertThat(r.header("Content-Length")).isEqualTo(String.valueOf(r.body().length));
    assertThat(r.header("ETag")).matches("\"[0-9a-f]{24}\"");
    assertThat(r.header("Cache-Control")).isEqualTo("no-cache");
    assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(r.header("Content-Security-Policy"))
        .contains("default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self'",
            "frame-ancestors 'none'")
        .doesNotContain("unsafe-inline", "unsafe-eval");
  }

  @Test
  void the_page_has_no_inline_script_or_handler_and_loads_its_module() throws Exception {
    String html = send("GET", "/", "").bodyAsString();

    assertThat(html).contains("<script type=\"module\" src=\"/ui/app.js\"></script>");
    Matcher scripts = Pattern.compile("<script[^>]*>").matcher(html);
    while (scripts.find()) {
      assertThat(scripts.group()).as("a script with a src, nothing inline").contains(" src=\"/ui/");
    }
    assertThat(html).doesNotContainPattern("(?i)\\son[a-z]+=").doesNotContain("style=");
  }

  /** Data goes into the page as text only; nothing parses a string as markup or code. */
  @ParameterizedTest
  @ValueSource(strings = {"/ui/app.js", "/ui/view.js", "/ui/charts.js"})
  void the_page_code_never_turns_a_string_into_markup_or_code(String path) throws Exception {
    assertThat(send("GET", path, "").bodyAsString())
        .doesNotContain("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
            "localStorage", ".style.cssText", "setAttribute('style'");
  }

  @Test
  void the_chart_library_is_the_webjar_file_byte_for_byte() throws Exception {
    byte[] expected;
    try (InputStream in = getClass().getClassLoader()
        .getResourceAsStream("META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.esm.js")) {
      expected = in.readAllBytes();
    }
    assertThat(send("GET", "/ui/uPlot.esm.js", "").body()).isEqualTo(expected);
  }

  @Test
  void a_matching_if_none_match_gets_304_without_a_body() throws Exception {
    String etag = send("GET", "/ui/app.js", "").header("ETag");

    RawResponse again = send("GET", "/ui/app.js", "If-None-Match: " + etag + "\r\n");
    assertThat(again.status()).isEqualTo(304);
    assertThat(again.header("ETag")).isEqualTo(etag);
    assertThat(again.body()).isEmpty();
    assertThat(send("GET", "/ui/app.js", "If-None-Match: \"other\"\r\n").status()).isEqualTo(200);
  }

  @Test
  void head_gets_the_headers_without_the_body() throws Exception {
    RawResponse r = send("HEAD", "/", "");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
    assertThat(r.body()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/ui/", "/ui/nope.js", "/ui/../pom.xml", "/ui/..%2fpom.xml", "/ui/%2e%2e/app.js",
      "/ui/app.js/", "/ui//app.js", "/ui/APP.JS", "/ui/index.html", "/ui/../../../../etc/passwd",
      "/ui/io/gatehouse/admin/dashboard/app.js", "/ui/META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.esm.js"})
  void only_the_fixed_names_are_served(String path) throws Exception {
    RawResponse r = send("GET", path, "");
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
  }

  @ParameterizedTest
  @CsvSource({"POST, /", "PUT, /ui/app.js", "DELETE, /ui/uPlot.esm.js"})
  void a_wrong_method_gets_405_with_allow(String method, String path) throws Exception {
    RawResponse r = send(method, path, "Content-Length: 0\r\n");
    assertThat(r.status()).isEqualTo(405);
    assertThat(r.header("Allow")).isEqualTo("GET, HEAD");
  }

  @Test
  void the_data_behind_the_page_still_needs_the_token_and_is_never_cached() throws Exception {
    assertThat(send("GET", "/api/v1/clusters", "").status()).isEqualTo(401);
    RawResponse data = send("GET", "/api/v1/clusters", "Authorization: Bearer t0ken\r\n");
    assertThat(data.status()).isEqualTo(200);
    assertThat(data.header("Cache-Control")).isEqualTo("no-store");
    assertThat(data.header("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(send("GET", "/metrics", "").status()).isEqualTo(401);
  }
}
