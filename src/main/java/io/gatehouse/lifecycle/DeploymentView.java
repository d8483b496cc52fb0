package io.gatehouse.lifecycle;

import io.gatehouse.deploy.Backend;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentSpec;
import java.util.List;

/**
 * A deployment as the API answers it (DESIGN "Deployments"): {@code id, state, route, to, weights,
 * step, history}, plus what was asked for. {@code step} counts from 1 (0 before the first).
 */
record DeploymentView(String id, String state, String route, String to, String strategy, List<Integer> steps,
    long intervalMillis, String onFailure, io.gatehouse.deploy.Slo slo, int step, int percent, List<Backend> weights,
    List<Backend> from, List<Deployment.HistoryEntry> history) {
  static DeploymentView of(Deployment d) {
    DeploymentSpec s = d.spec();
    return new DeploymentView(d.id(), d.state().label(), d.route(), d.to(), s.strategy().label(), s.steps(),
        s.intervalMillis(), s.onFailure().label(), s.slo(), d.step() + 1, d.percent(), d.weights(), d.from(),
        d.history());
  }
}
