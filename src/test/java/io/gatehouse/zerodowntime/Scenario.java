package io.gatehouse.zerodowntime;

import java.time.Duration;
import java.util.List;

/**
 * One zero-downtime scenario: what is done to the proxy or the origins while the load runs. Every
 * scenario starts from fresh processes: origins {@code blue} and {@code green}, the proxy in front.
 */
enum Scenario {
  /** 50 reloads of an edited config, spread over the run. */
  RELOADS("50 reloads") {
    @Override
    void act(Stage stage) throws Exception {
      for (int n = 1; n <= 50; n++) {
        stage.proxy().reload(stage.both(), n);
        stage.steady(stage.timing().betweenReloads());
      }
    }
  },
  /** All traffic moves from blue to green by a config edit + reload; blue stays up. */
  BLUE_GREEN("blue/green switch") {
    @Override
    List<Origin> initial(Stage stage) {
      return List.of(stage.blue());
    }

    @Override
    void act(Stage stage) throws Exception {
      stage.proxy().reload(List.of(stage.green()), 1);
      stage.awaitServedBy("green");
    }
  },
  /**
   * The route's weights move from a cluster of blue to a cluster of green through the admin API
   * ({@code PUT /api/v1/routes/app/backends}), no reload.
   */
  BLUE_GREEN_API("blue/green switch by admin API") {
    @Override
    void act(Stage stage) throws Exception {
      String missing = stage.proxy().switchByApi(stage.blue(), stage.green());
      if (missing != null) {
        stage.notAvailable(missing);
        return;
      }
      stage.awaitServedBy("green");
    }
  },
  /** Blue leaves the config (drain), its in-flight downloads end, then it is killed with -9. */
  DRAIN_AND_KILL("drain + kill -9 of the drained origin") {
    @Override
    void act(Stage stage) throws Exception {
      stage.proxy().reload(List.of(stage.green()), 1);
      stage.awaitDrained(stage.blue());
      stage.kill(stage.blue());
    }
  },
  /**
   * Blue is drained through the admin API ({@code POST .../drain?wait=}), which answers once its
   * in-flight exchanges have ended; then it is killed with -9.
   */
  DRAIN_API_AND_KILL("drain by admin API + kill -9") {
    @Override
    void act(Stage stage) throws Exception {
      String missing = stage.proxy().drainByApi(stage.blue());
      if (missing != null) {
        stage.notAvailable(missing);
        return;
      }
      stage.kill(stage.blue());
    }
  },
  /** Green is killed with -9 while serving; only what lived on it may fail. */
  ORIGIN_KILL("origin killed with kill -9") {
    @Override
    void act(Stage stage) throws Exception {
      stage.kill(stage.green());
    }
  },
  /** A new proxy process takes the listening sockets over; the old one drains and exits. */
  HAND_OFF("hand-off to a new process") {
    @Override
    void act(Stage stage) throws Exception {
      stage.handOff();
    }
  },
  /**
   * The hand-off again, with downloads that last longer than the drain bound: a proxy whose old
   * process keeps them cuts them at the bound; one that moves them to the new process does not.
   */
  HAND_OFF_LONG_DOWNLOADS("hand-off with downloads outliving the drain bound") {
    @Override
    void act(Stage stage) throws Exception {
      stage.handOff();
    }

    @Override
    LoadPlan plan(LoadPlan base, Timing timing) {
      Duration time = timing.drainTimeout().plusSeconds(10); // past the deadline even if the action takes a few seconds
      long bytes = base.downloadBytes() * time.toMillis() / base.downloadTime().toMillis(); // the same rate
      return new LoadPlan(base.httpClients(), base.webSockets(), base.downloads(), bytes, time, base.requestPause(),
          base.maxDuration());
    }
  },
  /**
   * The graceful stop: in-flight requests and downloads finish; afterwards the listener is closed,
   * so new connections are refused (counted apart) and WebSockets end at the drain deadline.
   */
  GRACEFUL_STOP("graceful stop") {
    @Override
    void act(Stage stage) throws Exception {
      stage.stop();
    }
  },
  /** The control: stop, then start a new process. It must show refused connections. */
  STOP_THEN_START("control: stop, then start") {
    @Override
    void act(Stage stage) throws Exception {
      stage.proxy().gracefulStop();
      if (!stage.proxy().awaitExit(stage.timing().drainTimeout().toSeconds() + 30)) {
        throw new IllegalStateException("the proxy did not exit");
      }
      stage.proxy().start(stage.both());
    }
  };

  final String title;

  Scenario(String title) {
    this.title = title;
  }

  List<Origin> initial(Stage stage) {
    return stage.both();
  }

  /** The load of this scenario's runs: {@code base}, but where a scenario needs other downloads. */
  LoadPlan plan(LoadPlan base, Timing timing) {
    return base;
  }

  /** Whether the action is a hand-off to a new process (which some installations cannot do). */
  boolean handsOff() {
    return this == HAND_OFF || this == HAND_OFF_LONG_DOWNLOADS;
  }

  abstract void act(Stage stage) throws Exception;

  /** How long each part of a run lasts. */
  record Timing(Duration warmUp, Duration settle, Duration betweenReloads, Duration drainTimeout) {
    /** The drain timeout leaves a 1.5 s download in flight at the stop four times its time, on a busy machine. */
    static Timing quick() {
      return new Timing(Duration.ofMillis(1500), Duration.ofMillis(1500), Duration.ofMillis(40), Duration.ofSeconds(6));
    }
  }
}
