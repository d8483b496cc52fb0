package io.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.Reply;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real browser: Debian's headless Chromium driven by its chromedriver through
 * Selenium (never Selenium Manager: both paths are given, nothing is downloaded). Real proxy, real
 * upstreams, real load; the page is used as an operator would: token prompt, drain click, a
 * deployment's charts filling up. Saves {@code target/dashboard.png}.
 */
@Timeout(180)
class DashboardBrowserTest {
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final String TOKEN = "dashboard-t0ken";
  /**
   * The steady load's bound: paced ({@link #LOAD_PAUSE_MILLIS} between a client's requests, two
   * clients, a few hundred a second) it lasts minutes on any host, longer than the test; unpaced, a
   * fast host spends a count-only bound before a slow test's canary is judged.
   */
  private static final int MAX_REQUESTS = 60_000;
  private static final long LOAD_PAUSE_MILLIS = 4;
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = ProxyUnderTest.httpClient();

  @BeforeAll
  static void browserPresent() {
    Assumptions.assumeTrue(Files.isExecutable(CHROMEDRIVER) && Files.isExecutable(CHROMIUM),
        "skipped: needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver);"
            + " .ci/run installs them");
  }

  private static WebDriver chromium() {
    System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
    ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
        .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1500",
            "--force-device-scale-factor=1", "--lang=en-GB");
    options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  private JsonNode api(ProxyUnderTest proxy, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.server().adminAddress().getPort()
            + path)).timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isBetween(200, 201);
    return JSON.readTree(response.body());
  }

  /** Some latency spread, so the page's figures and charts show something. */
  private static Reply jittered(int maxMillis) {
    return Reply.slow(Duration.ofMillis(ThreadLocalRandom.current().nextInt(1, maxMillis)));
  }

  @Test
  void operator_enters_the_token_sees_the_clusters_drains_an_endpoint_and_watches_a_canary() throws Exception {
    try (FakeUpstream blue1 = FakeUpstream.start("blue1"); FakeUpstream blue2 = FakeUpstream.start("blue2");
        FakeUpstream green1 = FakeUpstream.start("green1"); FakeUpstream green2 = FakeUpstream.start("green2");
        FakeUpstream search = FakeUpstream.start("search");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            admin: { bind: 127.0.0.1:0, token: %s }
            listeners:
              - { name: web, bind: 127.0.0.1:0, mode: reverse }
              - { name: egress, bind: 127.0.0.1:0, mode: forward }
            routes:
              - { name: app, listeners: [web], match: { pathPrefix: / }, backends: [ { cluster: blue, weight: 100 } ] }
              - { name: search, listeners: [web], match: { pathPrefix: /search/ }, backends: [ { cluster: search, weight: 1 } ] }
            clusters:
              - { name: blue, balancer: round_robin, endpoints: [ "${B1}", "${B2}" ] }
              - { name: green, balancer: least_request, endpoints: [ "${G1}", "${G2}" ] }
              - name: search
                endpoints: [ "${S1}", "${S2}" ]
                healthCheck: { path: /healthz, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }
            """.formatted(TOKEN), Map.of("B1", blue1.address(), "B2", blue2.address(), "G1", green1.address(),
            "G2", green2.address(), "S1", search.address(), "S2", "127.0.0.1:" + closedPort()))) {
      for (FakeUpstream u : new FakeUpstream[] {blue1, blue2, green1, green2}) {
        u.respond(head -> jittered(8)); // the same spread: green is not worse, the canary walks on
      }
      WebDriver browser = chromium();
      try (Load load = new Load(proxy)) {
        browser.get("http://127.0.0.1:" + proxy.server().adminAddress().getPort() + "/");

        // The token prompt, since the admin listener has a token; the token stays in this tab.
        WebElement input = await().atMost(Duration.ofSeconds(20)).until(
            () -> browser.findElement(By.id("token-input")), WebElement::isDisplayed);
        input.sendKeys("not-the-token");
        browser.findElement(By.id("token-submit")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.id("token-error")).getText(),
            text -> text.contains("refused (401)"));
        assertThat(browser.findElement(By.id("token-dialog")).isDisplayed()).as("a 401 asks again").isTrue();
        browser.findElement(By.id("token-input")).sendKeys(TOKEN);
        browser.findElement(By.id("token-submit")).click();
        await().atMost(Duration.ofSeconds(20)).until(
            () -> "true".equals(browser.findElement(By.tagName("body")).getDomAttribute("data-loaded")));

        // The token is kept for this tab only: sessionStorage, no localStorage, no cookie.
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertThat(js.executeScript("return sessionStorage.getItem('gatehouse.adminToken')")).isEqualTo(TOKEN);
        assertThat(js.executeScript("return localStorage.length + document.cookie.length")).isEqualTo(0L);

        // Listeners as bound (the real port, not the config's 0).
        assertThat(browser.findElement(By.cssSelector("#listeners tr[data-key='web'] td:nth-child(3)")).getText())
            .isEqualTo("127.0.0.1:" + proxy.port());

        // Clusters and their endpoints.
        WebElement blue = browser.findElement(By.cssSelector("#clusters .cluster[data-key='blue']"));
        assertThat(blue.findElement(By.className("title")).getText()).isEqualTo("blue");
        assertThat(browser.findElement(By.cssSelector("#clusters .cluster[data-key='green'] .title")).getText())
            .isEqualTo("green");
        assertThat(blue.findElements(By.cssSelector("tbody tr"))).extracting(row -> row.getDomAttribute("data-key"))
            .containsExactly(blue1.address(), blue2.address());
        assertThat(browser.findElement(By.cssSelector("#routes tbody[data-key='app'] .split")).getText())
            .contains("blue 100%");

        // Drain one endpoint with its button: the API shows it draining, then the page does.
        WebElement row = blue.findElement(By.cssSelector("tr[data-key='" + blue2.address() + "']"));
        row.findElement(By.cssSelector("button[data-action='drain']")).click();
        await().atMost(Duration.ofSeconds(20)).until(() ->
            adminState(api(proxy, "GET", "/api/v1/clusters/blue", null), blue2.address()).equals("draining"));
        await().atMost(Duration.ofSeconds(20)).until(() -> browser.findElement(By.cssSelector(
            "#clusters .cluster[data-key='blue'] tr[data-key='" + blue2.address() + "']")).getDomAttribute("data-state"),
            "draining"::equals);
        assertThat(browser.findElement(By.cssSelector("#clusters .cluster[data-key='blue'] tr[data-key='"
            + blue2.address() + "'] td:nth-child(4)")).getText()).isEqualTo("draining");

        // Edit the route's split in the page: the API has the new weights.
        browser.findElement(By.cssSelector("#routes tbody[data-key='app'] button")).click();
        WebElement weight = browser.findElement(By.cssSelector("#routes tr.editor input[data-cluster='blue']"));
        weight.clear();
        weight.sendKeys("3");
        browser.findElement(By.cssSelector("#routes tr.editor button.primary")).click();
        await().atMost(Duration.ofSeconds(20)).until(() -> api(proxy, "GET", "/api/v1/routes", null).get(0).toString(),
            "{\"name\":\"app\",\"backends\":[{\"cluster\":\"blue\",\"weight\":3}],\"overridden\":true}"::equals);

        // A canary under the steady load: its judge chart gains points as verdicts come in. The SLO
        // is loose on purpose: this is about the page, not the judge, on a machine that may be busy.
        // 20 steps of 3 s: it must still be running when the page pauses it below, however slowly
        // the browser gets there (at 1 s a step it was once promoted first, on a busy CI machine).
        JsonNode started = api(proxy, "POST", "/api/v1/deployments", """
            {"route":"app","to":"green","strategy":"canary","steps":[5,10,15,20,25,30,35,40,45,50,55,60,65,70,75,80,85,90,95,100],
             "interval":"3s","slo":{"maxErrorRate":0.2,"maxP99":"2s","minRequests":5,"vsBaseline":false},
             "onFailure":"rollback"}""");
        String card = "#deployments .deployment[data-key='" + started.get("id").asText() + "']";
        WebElement charts = await().atMost(Duration.ofSeconds(20))
            .until(() -> browser.findElements(By.cssSelector(card + " .charts")), l -> !l.isEmpty()).get(0);
        int first = Integer.parseInt(charts.getDomAttribute("data-points"));
        String id = started.get("id").asText();
        await().atMost(Duration.ofSeconds(60))
            .failFast("the deployment stopped", () -> !Set.of("pending", "progressing", "promoted")
                .contains(api(proxy, "GET", "/api/v1/deployments/" + id, null).get("state").asText()))
            .until(() -> Integer.parseInt(browser.findElement(By.cssSelector(card + " .charts"))
                .getDomAttribute("data-points")) >= Math.max(first + 2, 4));
        assertThat(browser.findElement(By.cssSelector(card + " .state")).getText()).isIn("progressing", "promoted");

        // Pause and resume it with its buttons.
        browser.findElement(By.cssSelector(card + " button[data-action='pause']")).click();
        await().atMost(Duration.ofSeconds(20)).until(
            () -> api(proxy, "GET", "/api/v1/deployments/" + id, null).get("state").asText(), "paused"::equals);
        await().atMost(Duration.ofSeconds(20)).until(
            () -> browser.findElement(By.cssSelector(card + " .state")).getText(), "paused"::equals);
        browser.findElement(By.cssSelector(card + " button[data-action='resume']")).click();
        await().atMost(Duration.ofSeconds(20)).until(
            () -> api(proxy, "GET", "/api/v1/deployments/" + id, null).get("state").asText(), "progressing"::equals);
        int resumedAt = Integer.parseInt(browser.findElement(By.cssSelector(card + " .charts")).getDomAttribute("data-points"));
        await().atMost(Duration.ofSeconds(60)).until(() -> Integer.parseInt(browser.findElement(By.cssSelector(card
            + " .charts")).getDomAttribute("data-points")) > resumedAt);
        assertThat(browser.findElements(By.cssSelector(card + " .charts canvas"))).hasSizeGreaterThanOrEqualTo(3);
        assertThat(browser.findElements(By.cssSelector(card + " .history tbody tr")).size())
            .isGreaterThanOrEqualTo(first + 2);

        assertThat(Files.size(screenshot(browser))).isPositive();
        assertThat(browser.manage().logs().get("browser").getAll()).extracting(Object::toString)
            .as("the page and uPlot run under the strict CSP").noneMatch(l -> l.contains("Content Security Policy"));
        assertThat(load.failed.get()).as("no request failed while the page drained and deployed").isZero();
      } catch (AssertionError | RuntimeException e) {
        screenshot(browser); // what the page showed when it went wrong
        browser.manage().logs().get("browser").forEach(l -> System.out.println("BROWSER " + l));
        throw e;
      } finally {
        browser.quit();
      }
    }
  }

  @Test
  void names_that_look_like_markup_are_shown_as_text_and_never_run() throws Exception {
    String hostile = "<img src=x onerror=\"document.title='pwned'\">";
    try (FakeUpstream a = FakeUpstream.start("a");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: "${H}", backends: [ { cluster: "${H}", weight: 1 } ] } ]
            clusters: [ { name: "${H}", endpoints: [ "${A}" ] } ]
            """, Map.of("A", a.address(), "H", hostile))) {
      WebDriver browser = chromium();
      try {
        browser.get("http://127.0.0.1:" + proxy.server().adminAddress().getPort() + "/");
        // No token on this admin listener: the page shows the data without asking.
        await().atMost(Duration.ofSeconds(20)).until(
            () -> "true".equals(browser.findElement(By.tagName("body")).getDomAttribute("data-loaded")));

        assertThat(browser.findElement(By.id("token-dialog")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.cssSelector("#clusters .cluster .title")).getText()).isEqualTo(hostile);
        assertThat(browser.findElement(By.cssSelector("#routes tbody td.name")).getText()).isEqualTo(hostile);
        assertThat(browser.findElements(By.cssSelector("main img"))).as("no element made from a name").isEmpty();
        assertThat(browser.getTitle()).isEqualTo("Gatehouse");
      } finally {
        browser.quit();
      }
    }
  }

  /** A loopback port nothing listens on: an endpoint whose health checks fail. */
  private static int closedPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** The whole page, as tall as its content. */
  private static Path screenshot(WebDriver browser) throws Exception {
    Path shot = Path.of("target", "dashboard.png");
    Files.createDirectories(shot.getParent());
    File taken = browser.findElement(By.tagName("body")).getScreenshotAs(OutputType.FILE);
    Files.copy(taken.toPath(), shot, StandardCopyOption.REPLACE_EXISTING);
    return shot;
  }

  private static String adminState(JsonNode cluster, String address) {
    for (JsonNode e : cluster.get("endpoints")) {
      if (e.get("address").asText().equals(address)) {
        return e.get("adminState").asText();
      }
    }
    throw new AssertionError(address + " not in " + cluster);
  }

  /** Two clients sending one request after another until closed, at most {@link #MAX_REQUESTS} in all. */
  private static final class Load implements AutoCloseable {
    final AtomicInteger failed = new AtomicInteger();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();
    private final ExecutorService threads = Executors.newFixedThreadPool(2);

    Load(ProxyUnderTest proxy) {
      HttpClient client = ProxyUnderTest.httpClient();
      for (int i = 0; i < 2; i++) {
        threads.submit(() -> {
          while (!stop.get() && sent.incrementAndGet() <= MAX_REQUESTS) {
            try {
              HttpResponse<Void> r = client.send(HttpRequest.newBuilder(proxy.uri("/")).timeout(Duration.ofSeconds(10))
                  .build(), HttpResponse.BodyHandlers.discarding());
              if (r.statusCode() != 200) {
                failed.incrementAndGet();
              }
            } catch (Exception e) {
              failed.incrementAndGet();
            }
            try {
              Thread.sleep(LOAD_PAUSE_MILLIS);
            } catch (InterruptedException e) {
              return;
            }
          }
        });
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      threads.shutdown();
      threads.awaitTermination(20, TimeUnit.SECONDS);
    }
  }
}
