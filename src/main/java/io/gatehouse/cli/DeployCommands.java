package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse deploy} and {@code gatehouse rollback}: start a guarded rollout, or undo one. */
final class DeployCommands {
  private DeployCommands() {}

  @Command(name = "deploy", description = "Move a route to a cluster step by step, rolled back on an SLO breach.")
  static final class Deploy extends AdminCommand {
    @Parameters(index = "0", paramLabel = "ROUTE", description = "route name")
    String route;

    @Option(names = "--to", required = true, paramLabel = "CLUSTER", description = "target cluster")
    String to;

    @Option(names = "--steps", split = ",", paramLabel = "PERCENT", description = "shares, e.g. 5,25,50,100")
    List<Integer> steps;

    @Option(names = "--interval", paramLabel = "DURATION", description = "time per step, e.g. 30s")
    String interval;

    @Option(names = "--strategy", paramLabel = "canary|bluegreen", description = "default: canary")
    String strategy;

    @Option(names = "--on-failure", paramLabel = "rollback|stepback|pause", description = "default: rollback")
    String onFailure;

    @Override
    int run() throws AdminClient.Unreachable {
      ObjectNode body = AdminClient.JSON.createObjectNode().put("route", route).put("to", to);
      if (steps != null) {
        steps.forEach(body.putArray("steps")::add);
      }
      if (interval != null) {
        body.put("interval", interval);
      }
      if (strategy != null) {
        body.put("strategy", strategy);
      }
      if (onFailure != null) {
        body.put("onFailure", onFailure);
      }
      AdminClient.Answer answer = admin.call("POST", "/api/v1/deployments", body.toString(), Duration.ofSeconds(10));
      if (!answer.ok()) {
        return refused(answer);
      }
      JsonNode d = answer.json();
      System.out.println("deployment " + d.get("id").asText() + ": " + route + " -> " + to + " "
          + d.get("state").asText() + " at " + d.get("percent").asInt() + "% (steps " + d.get("steps") + ")");
      return 0;
    }
  }

  @Command(name = "rollback", description = "Roll a deployment back: all traffic to the backends before it, at once.")
  static final class Rollback extends AdminCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "deployment id")
    String id;

    @Override
    int run() throws AdminClient.Unreachable {
      AdminClient.Answer answer = admin.call("POST", "/api/v1/deployments/" + EndpointCommands.encode(id) + "/rollback",
          null, Duration.ofSeconds(10));
      if (!answer.ok()) {
        return refused(answer);
      }
      System.out.println("deployment " + id + ": " + answer.json().get("state").asText());
      return 0;
    }
  }
}
