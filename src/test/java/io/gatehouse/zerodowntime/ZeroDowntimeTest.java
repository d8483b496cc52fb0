package io.gatehouse.zerodowntime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short zero-downtime suite: Gatehouse, the origins and the load as real processes and
 * sockets, a few seconds per scenario. The long version, beside nginx and HAProxy, is
 * {@code bench/zero-downtime.sh}.
 */
@Timeout(180)
class ZeroDowntimeTest {
  /** Quick to start and small: the machine is shared; the bench runs Gatehouse with its defaults. */
  private static final List<String> QUICK_JVM = List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @TempDir Path dir;

  private Verdict run(Scenario scenario) throws Exception {
    String classpath = System.getProperty("java.class.path");
    Scenario.Timing timing = Scenario.Timing.quick();
    Verdict verdict = ScenarioRun.run(scenario, new GatehouseDriver(classpath, QUICK_JVM, dir, timing.drainTimeout()),
        classpath, dir, LoadPlan.quick(), timing);
    System.out.println(verdict.summary());
    return verdict;
  }

  /** Every stream did real work, and nothing failed. */
  private static void assertZeroDowntime(Verdict verdict) {
    assertThat(verdict.failures()).as(verdict.summary()).isEmpty();
    assertThat(verdict.requestsOk()).as(verdict.summary()).isPositive().isEqualTo(verdict.requests());
    assertThat(verdict.echoes()).as(verdict.summary()).isPositive();
    assertThat(verdict.downloadsOk()).as(verdict.summary()).isPositive();
  }

  @Test
  void fiftyReloadsLoseNothing() throws Exception {
    Verdict verdict = run(Scenario.RELOADS);
    assertZeroDowntime(verdict);
    // a reload closes no client connection, so no request even needs resending
    assertThat(verdict.retriedAfterClose()).as(verdict.summary()).isZero();
    assertThat(verdict.downloadsOk()).isEqualTo(verdict.downloads());
  }

  @Test
  void blueGreenSwitchLosesNothing() throws Exception {
    Verdict verdict = run(Scenario.BLUE_GREEN);
    assertZeroDowntime(verdict);
    assertThat(verdict.retriedAfterClose()).as(verdict.summary()).isZero();
  }

  @Test
  void blueGreenSwitchByAdminApiLosesNothing() throws Exception {
    Verdict verdict = run(Scenario.BLUE_GREEN_API);
    assertZeroDowntime(verdict);
    assertThat(verdict.retriedAfterClose()).as(verdict.summary()).isZero();
  }

  @Test
  void originDrainedByAdminApiThenKilledLosesOnlyItsWebSockets() throws Exception {
    Verdict verdict = run(Scenario.DRAIN_API_AND_KILL);
    assertZeroDowntime(verdict);
  }

  @Test
  void drainedOriginKilledLosesOnlyItsWebSockets() throws Exception {
    Verdict verdict = run(Scenario.DRAIN_AND_KILL);
    assertZeroDowntime(verdict);
  }

  @Test
  void originKilledLosesOnlyWhatLivedOnIt() throws Exception {
    Verdict verdict = run(Scenario.ORIGIN_KILL);
    assertZeroDowntime(verdict);
  }

  @Test
  void sigtermFinishesWhatIsInFlight() throws Exception {
    Verdict verdict = run(Scenario.GRACEFUL_STOP);
    assertThat(verdict.failures()).as(verdict.summary()).isEmpty();
    assertThat(verdict.downloadsOk()).as(verdict.summary()).isPositive();
    assertThat(verdict.refusedAfterStop()).as("the stopped listener refuses: " + verdict.summary()).isPositive();
  }

  @Test
  void takeoverHandsTheSocketsOverAndItsWebSocketsToo() throws Exception {
    Verdict verdict = run(Scenario.HAND_OFF);
    assumeThat(verdict.note()).as("--takeover").isNull();
    assertZeroDowntime(verdict);
    assertThat(verdict.webSocketsEndedByStop()).as("WebSockets move to the new process: " + verdict.summary())
        .isZero();
  }

  /** Downloads longer than the drain deadline move to the new process instead of being cut at it. */
  @Test
  void takeoverMovesDownloadsThatOutliveTheDrainDeadline() throws Exception {
    Verdict verdict = run(Scenario.HAND_OFF_LONG_DOWNLOADS);
    assumeThat(verdict.note()).as("--takeover").isNull();
    assertZeroDowntime(verdict);
  }

  /** The instrument can fail: a stop followed by a start refuses connections, and it sees them. */
  @Test
  void stopThenStartIsCaught() throws Exception {
    Verdict verdict = run(Scenario.STOP_THEN_START);
    assertThat(verdict.failures()).as(verdict.summary()).containsKey("http refused");
    assertThat(verdict.failed()).isPositive();
  }
}
