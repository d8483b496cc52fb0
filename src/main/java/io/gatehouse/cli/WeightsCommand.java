package io.gatehouse.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code gatehouse weights ROUTE blue=90 green=10}: a route's backend weights. */
@Command(name = "weights", description = "Set a route's backend weights, e.g. weights app blue=90 green=10.")
final class WeightsCommand extends AdminCommand {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ROUTE", description = "route name")
  String route;

  @Parameters(index = "1..*", arity = "1..*", paramLabel = "CLUSTER=WEIGHT", description = "backend weights")
  List<String> weights;

  @Override
  int run() throws AdminClient.Unreachable {
    ArrayNode body = AdminClient.JSON.createArrayNode();
    for (String w : weights) {
      int eq = w.indexOf('=');
      int weight;
      try {
        weight = Integer.parseInt(w.substring(eq + 1));
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        weight = -1;
      }
      if (eq <= 0 || weight < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "bad weight '" + w + "' (expected: CLUSTER=WEIGHT with WEIGHT >= 0, e.g. blue=90)");
      }
      body.addObject().put("cluster", w.substring(0, eq)).put("weight", weight);
    }
    AdminClient.Answer answer = admin.call("PUT", "/api/v1/routes/" + EndpointCommands.encode(route) + "/backends",
        body.toString(), Duration.ofSeconds(10));
    if (!answer.ok()) {
      return refused(answer);
    }
    System.out.println(route + ": " + String.join(" ", weights) + " (generation " + answer.json().get("generation").asLong()
        + ")");
    return 0;
  }
}
