package io.gatehouse.zerodowntime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Runs one {@link Scenario} against one proxy from fresh processes, under load, and judges it. */
final class ScenarioRun {
  private static final HttpClient PROBE = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private ScenarioRun() {}

  /**
   * A bound port is not yet a serving proxy (a JVM still warming up may hold the first requests
   * for seconds): the load starts once a request through the proxy has been answered.
   */
  private static void awaitAnswering(ProxyDriver proxy) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + proxy.port() + "/req");
    boolean answering = Processes.await(() -> {
      try {
        return PROBE.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }, 60);
    if (!answering) {
      throw new IllegalStateException(proxy.name() + " did not answer GET /req within 60 s");
    }
  }

  /** {@code proxy} is not started yet; it is closed (every process killed) on return. */
  static Verdict run(Scenario scenario, ProxyDriver proxy, String classpath, Path dir, LoadPlan plan,
      Scenario.Timing timing) throws Exception {
    Files.createDirectories(dir);
    proxy.prepare(scenario);
    if ((scenario == Scenario.BLUE_GREEN_API || scenario == Scenario.DRAIN_API_AND_KILL)
        && proxy.runtimeApiMissing() != null) {
      proxy.close();
      return Verdict.notAvailable(scenario.title, proxy.name(), proxy.runtimeApiMissing());
    }
    if (scenario.handsOff()) {
      String missing = proxy.handOffMissing();
      if (missing != null) {
        proxy.close();
        return Verdict.notAvailable(scenario.title, proxy.name(), missing);
      }
    }
    List<Origin> origins = Origin.start(classpath, dir, "blue", "green");
    try (proxy; Origin blue = origins.get(0); Origin green = origins.get(1)) {
      Tally tally = new Tally();
      Stage stage = new Stage(proxy, blue, green, tally, timing);
      proxy.start(scenario.initial(stage));
      awaitAnswering(proxy);
      Load load = Load.start(proxy.port(), scenario.plan(plan, timing), tally);
      try {
        stage.steady(timing.warmUp());
        scenario.act(stage);
        if (stage.notAvailable() == null) {
          stage.steady(timing.settle());
        }
      } finally {
        load.stop();
      }
      if (stage.notAvailable() != null) {
        return Verdict.notAvailable(scenario.title, proxy.name(), stage.notAvailable());
      }
      return Verdict.judge(scenario.title, proxy.name(), tally, stage.killed(), stage.stopNanos(),
          stage.drainNanos());
    }
  }
}
