package io.gatehouse.zerodowntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The long zero-downtime suite, run by {@code bench/zero-downtime.sh}: every {@link Scenario}
 * against Gatehouse, nginx and HAProxy, each from fresh processes, and the side-by-side table
 * written as markdown.
 *
 * <p>{@code java -cp target/test-classes:target/gatehouse.jar io.gatehouse.zerodowntime.ZeroDowntimeBench
 * OUT.md WORKDIR COMMIT [gatehouse,nginx,haproxy] [RELOADS,BLUE_GREEN,...]}
 */
public final class ZeroDowntimeBench {
  /** {@code -Dzd.quick=true}: the short plan of {@code mvn test}, to try the script itself. */
  private static final boolean QUICK = Boolean.getBoolean("zd.quick");
  static final LoadPlan PLAN = QUICK ? LoadPlan.quick()
      : new LoadPlan(8, 4, 4, 2 * 1024 * 1024, Duration.ofSeconds(4), Duration.ofMillis(5), Duration.ofMinutes(10));
  static final Scenario.Timing TIMING = QUICK ? Scenario.Timing.quick()
      : new Scenario.Timing(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofMillis(100), Duration.ofSeconds(10));

  private ZeroDowntimeBench() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    Path work = Path.of(args[1]);
    String commit = args[2];
    List<String> proxies = List.of((args.length > 3 ? args[3] : "gatehouse,nginx,haproxy").split(","));
    List<Scenario> scenarios = args.length > 4 && !args[4].isBlank()
        ? java.util.Arrays.stream(args[4].split(",")).map(Scenario::valueOf).toList() : List.of(Scenario.values());
    String classpath = System.getProperty("java.class.path");
    Map<String, Map<Scenario, Verdict>> results = new LinkedHashMap<>();
    Map<String, ProxyDriver> how = new LinkedHashMap<>();
    for (String proxy : proxies) {
      Map<Scenario, Verdict> byScenario = new LinkedHashMap<>();
      results.put(proxy, byScenario);
      String missing = missing(proxy);
      for (Scenario scenario : scenarios) {
        Path dir = work.resolve(proxy + "-" + scenario.name().toLowerCase());
        Verdict verdict;
        if (missing != null) {
          verdict = Verdict.notAvailable(scenario.title, proxy, missing);
        } else {
          ProxyDriver driver = driver(proxy, scenario, dir, classpath);
          how.putIfAbsent(proxy, driver);
          try {
            verdict = ScenarioRun.run(scenario, driver, classpath, dir, PLAN, TIMING);
          } catch (Exception e) {
            verdict = Verdict.notAvailable(scenario.title, driver.name(), "did not run: " + e.getMessage());
          }
        }
        System.out.println(verdict.summary());
        byScenario.put(scenario, verdict);
      }
    }
    Files.writeString(out, markdown(results, how, commit));
    System.out.println("wrote " + out);
  }

  private static String missing(String proxy) {
    return switch (proxy) {
      case "nginx" -> NginxDriver.missing();
      case "haproxy" -> HaproxyDriver.missing();
      default -> null;
    };
  }

  private static ProxyDriver driver(String proxy, Scenario scenario, Path dir, String classpath) {
    return switch (proxy) {
      case "gatehouse" -> new GatehouseDriver(classpath, List.of(), dir, TIMING.drainTimeout());
      case "nginx" -> new NginxDriver(dir, TIMING.drainTimeout());
      case "haproxy" -> new HaproxyDriver(dir, TIMING.drainTimeout());
      default -> throw new IllegalArgumentException("proxy: " + proxy + " (expected: gatehouse, nginx, haproxy)");
    };
  }

  static String markdown(Map<String, Map<Scenario, Verdict>> results, Map<String, ProxyDriver> how, String commit) {
    List<String> names = new ArrayList<>();
    results.values().forEach(v -> names.add(v.values().iterator().next().proxy()));
    StringBuilder md = new StringBuilder();
    md.append("# Zero-downtime suite: Gatehouse beside nginx and HAProxy\n\n")
        .append("Written by `bench/zero-downtime.sh` on ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
        .append(", commit `").append(commit).append("`, on ").append(Runtime.getRuntime().availableProcessors())
        .append(" cores shared with other builds (figures are counts, not speeds).\n\n")
        .append("Every cell is one run from fresh processes: origins `blue` and `green` (separate JVMs), the proxy ")
        .append("in front on 127.0.0.1, and under a steady load of ").append(PLAN.describe())
        .append(". The load runs ").append(TIMING.warmUp().toMillis()).append(" ms before the action and ")
        .append(TIMING.settle().toMillis()).append(" ms after it; reloads are ").append(TIMING.betweenReloads().toMillis())
        .append(" ms apart; drain timeout ").append(TIMING.drainTimeout().toSeconds()).append(" s. In the hand-off with ")
        .append("downloads outliving the drain bound, the downloads last ")
        .append(Scenario.HAND_OFF_LONG_DOWNLOADS.plan(PLAN, TIMING).downloadTime().toMillis())
        .append(" ms (at the same rate): longer than the drain bound each proxy is given.\n\n")
        .append("**failed** counts every request, download or WebSocket that did not succeed, except: what lived on an ")
        .append("origin the scenario killed (listed as *on the killed origin*), and after a graceful stop the ")
        .append("connections refused by the closed listener and WebSockets ended by the drain (listed apart). ")
        .append("*resent after keep-alive close*: a request sent on an idle keep-alive connection the proxy closed ")
        .append("at that moment, resent once on a new connection as RFC 9112 §9.3.1 allows (browsers do); not a ")
        .append("failure, but a client that does not retry would see it. `n/m req`: answered 200 / sent.\n\n");
    table(md, names, results, Verdict::cell);
    md.append("\n## How each scenario was done\n\n");
    md.append("| scenario | ").append(String.join(" | ", names)).append(" |\n|---|")
        .append("---|".repeat(names.size())).append('\n');
    row(md, "reload", List.copyOf(results.keySet()), how, ProxyDriver::reloadHow);
    row(md, "blue/green switch", List.copyOf(results.keySet()), how, d -> "blue replaced by green in the upstream list; " + d.reloadHow());
    row(md, "drain + kill", List.copyOf(results.keySet()), how, d -> "blue leaves the upstream list (" + d.reloadHow()
        + "); once blue has no exchange open and answered nothing for 1 s, `kill -9` blue");
    row(md, "by admin API", List.copyOf(results.keySet()), how, d -> d instanceof GatehouseDriver
        ? "`PUT /api/v1/routes/app/backends` (blue 0, green 1; one cluster per origin); "
            + "`POST /api/v1/clusters/app/endpoints/BLUE/drain?wait=60s`, then `kill -9` blue"
        : d.runtimeApiMissing());
    row(md, "origin kill", List.copyOf(results.keySet()), how, d -> "`kill -9` green while both serve");
    row(md, "hand-off", List.copyOf(results.keySet()), how, ProxyDriver::handOffHow);
    row(md, "graceful stop", List.copyOf(results.keySet()), how, ProxyDriver::gracefulStopHow);
    row(md, "drain bound", List.copyOf(results.keySet()), how, ProxyDriver::drainBoundHow);
    row(md, "control", List.copyOf(results.keySet()), how, d -> "graceful stop, wait for the exit, start again: must show refused connections");
    md.append("""

        Gatehouse's `SIGTERM` means: the listener closes at once (new connections are refused: a stop
        without a successor is downtime by definition; use the hand-off to restart), requests and
        downloads in flight finish with `Connection: close`, idle keep-alive connections close, and
        WebSockets are closed at `limits.drainTimeout`; then the process exits 0. At a hand-off the old
        process drains the same way, except that its plain-TCP WebSockets and CONNECT tunnels move to
        the new process (both sockets passed over `handoff.socket`, nothing in flight) instead, and
        so do its plain HTTP/1.1 keep-alive connections, each between two requests: no client of the
        hand-off row sees `Connection: close` or a close from Gatehouse.

        The same suite, short (a few seconds per scenario, Gatehouse only), runs in `mvn test` as
        `ZeroDowntimeTest`.
        """);
    List<Verdict> failing = new ArrayList<>();
    results.values().forEach(v -> v.values().stream().filter(x -> !x.samples().isEmpty()).forEach(failing::add));
    if (!failing.isEmpty()) {
      md.append("\n## First failures of each failing cell\n\n");
      for (Verdict verdict : failing) {
        md.append("- ").append(verdict.proxy()).append(" / ").append(verdict.scenario()).append(": ");
        verdict.samples().stream().limit(3).forEach(f -> md.append('`').append(f.stream()).append(' ')
            .append(f.kind()).append(f.origin() == null ? "" : " on " + f.origin()).append(": ")
            .append(f.detail().replace('`', '\'').replace('|', '/')).append("` "));
        md.append('\n');
      }
    }
    return md.toString();
  }

  private static void table(StringBuilder md, List<String> names, Map<String, Map<Scenario, Verdict>> results,
      java.util.function.Function<Verdict, String> cell) {
    md.append("| scenario | ").append(String.join(" | ", names)).append(" |\n|---|")
        .append("---|".repeat(names.size())).append('\n');
    for (Scenario scenario : results.values().iterator().next().keySet()) {
      md.append("| ").append(scenario.title).append(" |");
      for (Map<Scenario, Verdict> byScenario : results.values()) {
        md.append(' ').append(cell.apply(byScenario.get(scenario)).replace("|", "/")).append(" |");
      }
      md.append('\n');
    }
  }

  private static void row(StringBuilder md, String what, List<String> proxies, Map<String, ProxyDriver> how,
      java.util.function.Function<ProxyDriver, String> text) {
    md.append("| ").append(what).append(" |");
    proxies.forEach(p -> md.append(' ').append(how.containsKey(p) ? text.apply(how.get(p)) : "—").append(" |"));
    md.append('\n');
  }
}
