package io.gatehouse.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The controller's state machine with a hand-driven clock and observer, and an in-memory route table. */
class DeploymentControllerTest {
  private final ManualClock clock = new ManualClock();
  private final CohortObserver observer = new CohortObserver();
  private final RouteTable routes = new RouteTable();
  private final DeploymentController controller = new DeploymentController(DeploymentStore.inMemory(), routes,
      observer, clock);

  static final class ManualClock extends Clock {
    long millis = 1_000_000;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }

  /** The proxy's route weights, as the controller applies them. */
  static class RouteTable implements DeploymentController.Routes {
    final Map<String, List<Backend>> weights = new HashMap<>(Map.of("app", List.of(new Backend("blue", 1))));
    final List<List<Backend>> applied = new ArrayList<>();

    @Override
    public List<Backend> backends(String route) {
      return weights.get(route);
    }

    @Override
    public boolean hasCluster(String cluster) {
      return cluster.equals("blue") || cluster.equals("green");
    }

    @Override
    public String apply(String route, List<Backend> w, boolean restore, Split split) {
      weights.put(route, w);
      applied.add(w);
      return null;
    }
  }

  private static DeploymentSpec spec(DeploymentSpec.Strategy strategy, DeploymentSpec.OnFailure onFailure) {
    return new DeploymentSpec("app", "green", strategy, List.of(5, 25, 50, 100), 1000, new Slo(0.05, 500, 20, true),
        onFailure);
  }

  /** One interval of traffic: {@code n} requests to each cluster, {@code greenErrors} failing on green. */
  private void interval(int n, int greenErrors, long greenMillis) {
    for (int i = 0; i < n; i++) {
      observer.record("app", "blue", false, 20_000_000L + i * 1000);
      observer.record("app", "green", i < greenErrors, greenMillis * 1_000_000L + i * 1000);
    }
    clock.millis += 1000;
    controller.tick();
  }

  @Test
  void good_canary_walks_every_step_and_is_promoted() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    assertThat(d.state()).isEqualTo(DeploymentState.PROGRESSING);
    assertThat(routes.weights.get("app")).containsExactly(new Backend("blue", 9500), new Backend("green", 500));
    for (int i = 0; i < 4; i++) {
      interval(100, 0, 20);
    }
    d = controller.get(d.id());
    assertThat(d.state()).isEqualTo(DeploymentState.PROMOTED);
    assertThat(routes.applied).extracting(w -> w.get(w.size() - 1).weight()).containsExactly(500, 2500, 5000, 10000, 100);
    assertThat(routes.weights.get("app")).containsExactly(new Backend("green", 100));
    assertThat(d.history()).extracting(Deployment.HistoryEntry::event).last().asString().startsWith("passed");
    assertThat(d.history().get(1).verdict().requests()).isEqualTo(100);
  }

  @Test
  void no_traffic_never_promotes() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    for (int i = 0; i < 10; i++) {
      clock.millis += 1000;
      controller.tick();
    }
    assertThat(controller.get(d.id()).state()).isEqualTo(DeploymentState.PROGRESSING);
    assertThat(controller.get(d.id()).step()).isZero();
    interval(10, 0, 20); // 10 more: still under minRequests 20 on its own, but the waits carried
    interval(10, 0, 20);
    assertThat(controller.get(d.id()).step()).isEqualTo(1);
  }

  @Test
  void failing_canary_rolls_back_to_the_weights_before() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    interval(100, 0, 20);
    interval(100, 20, 20);
    d = controller.get(d.id());
    assertThat(d.state()).isEqualTo(DeploymentState.ROLLED_BACK);
    assertThat(routes.weights.get("app")).containsExactly(new Backend("blue", 1));
    assertThat(d.history().get(d.history().size() - 1).verdict().errors()).isEqualTo(20);
  }

  @Test
  void stepback_goes_one_step_back_and_pauses_and_pause_holds() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.STEPBACK));
    interval(100, 0, 20);
    interval(100, 0, 20);
    assertThat(controller.get(d.id()).percent()).isEqualTo(50);
    interval(100, 30, 20);
    d = controller.get(d.id());
    assertThat(d.state()).isEqualTo(DeploymentState.PAUSED);
    assertThat(d.percent()).isEqualTo(25);
    interval(100, 0, 20);
    assertThat(controller.get(d.id()).percent()).as("paused: no verdicts").isEqualTo(25);
    controller.act(d.id(), DeploymentController.Action.RESUME);
    interval(100, 0, 20);
    assertThat(controller.get(d.id()).percent()).isEqualTo(50);
  }

  @Test
  void bluegreen_judges_a_small_share_then_switches_all_and_keeps_blue_at_zero_until_promoted() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.BLUEGREEN, DeploymentSpec.OnFailure.PAUSE));
    interval(100, 0, 20);
    assertThat(routes.weights.get("app")).containsExactly(new Backend("blue", 0), new Backend("green", 10000));
    interval(100, 0, 20);
    assertThat(controller.get(d.id()).state()).isEqualTo(DeploymentState.PROMOTED);
  }

  @Test
  void operator_actions_and_conflicts() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    assertThatThrownBy(() -> controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK)))
        .isInstanceOfSatisfying(DeploymentException.class, e -> assertThat(e.kind())
            .isEqualTo(DeploymentException.Kind.CONFLICT));
    controller.act(d.id(), DeploymentController.Action.PAUSE);
    assertThat(controller.act(d.id(), DeploymentController.Action.PROMOTE).state()).isEqualTo(DeploymentState.PROMOTED);
    assertThatThrownBy(() -> controller.act(d.id(), DeploymentController.Action.ROLLBACK))
        .isInstanceOf(DeploymentException.class);
    assertThatThrownBy(() -> controller.get("nope")).isInstanceOfSatisfying(DeploymentException.class,
        e -> assertThat(e.kind()).isEqualTo(DeploymentException.Kind.NOT_FOUND));
  }

  @Test
  void weights_changed_outside_the_deployment_win_and_fail_it() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    List<Backend> operator = List.of(new Backend("blue", 50), new Backend("green", 50));
    routes.weights.put("app", operator); // an operator's PUT, or a reload that changed the route
    interval(100, 0, 20);
    d = controller.get(d.id());
    assertThat(d.state()).isEqualTo(DeploymentState.FAILED);
    assertThat(routes.weights.get("app")).isSameAs(operator);
  }

  @Test
  void a_route_the_proxy_lost_fails_the_deployment() {
    Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
    DeploymentController broken = new DeploymentController(DeploymentStore.persisting(List.of(controller.get(d.id())),
        all -> { }), new RouteTable() {
          @Override
          public String apply(String route, List<Backend> w, boolean restore, Split split) {
            throw new IllegalStateException("no route 'app'");
          }
        }, observer, clock);
    for (int i = 0; i < 100; i++) {
      observer.record("app", "blue", false, 20_000_000L);
      observer.record("app", "green", false, 20_000_000L);
    }
    clock.millis += 1000;
    broken.tick(); // a pass: the next step's weights cannot apply
    assertThat(broken.get(d.id()).state()).isEqualTo(DeploymentState.FAILED);
  }

  @Test
  void a_breach_is_rolled_back_within_two_intervals_wherever_it_starts_in_an_interval() {
    for (long offset = 0; offset < 1000; offset += 100) {
      ManualClock clock = new ManualClock();
      CohortObserver observer = new CohortObserver();
      RouteTable routes = new RouteTable();
      DeploymentController controller = new DeploymentController(DeploymentStore.inMemory(), routes, observer, clock);
      Deployment d = controller.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK));
      long breachAt = clock.millis + 1000 + offset; // the first interval is clean and passes
      int n = 0;
      while (controller.get(d.id()).state().running() && clock.millis < breachAt + 10_000) {
        // The owner's tick every 100 ms, with traffic in between: a fifth of green's requests fail
        // from the breach on.
        for (int i = 0; i < 10; i++) {
          observer.record("app", "blue", false, 20_000_000L);
          observer.record("app", "green", clock.millis >= breachAt && n++ % 5 == 0, 20_000_000L);
        }
        clock.millis += 100;
        controller.tick();
      }
      Deployment done = controller.get(d.id());
      assertThat(done.state()).isEqualTo(DeploymentState.ROLLED_BACK);
      long rolledBackAt = done.history().get(done.history().size() - 1).at();
      assertThat(rolledBackAt - breachAt).as("breach %d ms into an interval", offset)
          .isLessThanOrEqualTo(2 * done.spec().intervalMillis());
      assertThat(routes.weights.get("app")).containsExactly(new Backend("blue", 1));
    }
  }

  @Test
  void the_store_keeps_every_running_deployment_and_the_last_twenty_ended_per_route() {
    DeploymentStore store = DeploymentStore.inMemory();
    DeploymentController c = new DeploymentController(store, routes, observer, clock);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < DeploymentStore.KEEP_ENDED + 5; i++) {
      clock.millis += 1;
      String id = c.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK)).id();
      c.act(id, DeploymentController.Action.ROLLBACK);
      ids.add(id);
    }
    String running = c.start(spec(DeploymentSpec.Strategy.CANARY, DeploymentSpec.OnFailure.ROLLBACK)).id();
    assertThat(store.all()).extracting(Deployment::id)
        .containsExactlyElementsOf(concat(ids.subList(5, ids.size()), running));
  }

  private static List<String> concat(List<String> a, String b) {
    List<String> all = new ArrayList<>(a);
    all.add(b);
    return all;
  }
}
