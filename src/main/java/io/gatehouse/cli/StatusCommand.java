package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code gatehouse status}: routes with their weights, every cluster's endpoints, and deployments
 * (every running one and the last few that ended), as tables; in a fleet, also Redis's state and
 * every instance's last heartbeat.
 */
@Command(name = "status", description = "Show routes, clusters, endpoints, deployments and the fleet of a running instance.")
final class StatusCommand extends AdminCommand {
  @Override
  int run() throws AdminClient.Unreachable {
    AdminClient.Answer ready = admin.call("GET", "/ready");
    AdminClient.Answer routes = admin.call("GET", "/api/v1/routes");
    AdminClient.Answer clusters = admin.call("GET", "/api/v1/clusters");
    if (!routes.ok()) {
      return refused(routes);
    }
    if (!clusters.ok()) {
      return refused(clusters);
    }
    System.out.println("ready: " + ready.ok());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ROUTE", "BACKENDS", ""});
    for (JsonNode route : routes.json()) {
      List<String> backends = new ArrayList<>();
      for (JsonNode b : route.get("backends")) {
        backends.add(b.get("cluster").asText() + "=" + b.get("weight").asInt());
      }
      rows.add(new String[] {route.get("name").asText(), String.join(" ", backends),
          route.get("overridden").asBoolean() ? "(override)" : ""});
    }
    print(rows);
    System.out.println();
    rows = new ArrayList<>();
    rows.add(new String[] {"CLUSTER", "ENDPOINT", "WEIGHT", "HEALTH", "ADMIN", "EJECTED", "IN-FLIGHT", "CONNS", "REQ/MIN", "P50",
        "P99", "ERRORS"});
    for (JsonNode cluster : clusters.json()) {
      for (JsonNode e : cluster.get("endpoints")) {
        rows.add(new String[] {cluster.get("name").asText(), e.get("address").asText(), e.get("weight").asText(),
            e.get("health").asText(), e.get("adminState").asText(), e.get("ejected").asBoolean() ? "yes" : "no",
            e.get("inFlight").asText(), e.get("connections").asText(), e.get("requestsLastMinute").asText(), millis(e.get("p50Millis").asDouble()),
            millis(e.get("p99Millis").asDouble()), String.format("%.1f%%", 100 * e.get("errorRate").asDouble())});
      }
    }
    print(rows);
    AdminClient.Answer deployments = admin.call("GET", "/api/v1/deployments");
    if (!deployments.ok()) {
      return refused(deployments);
    }
    if (!deployments.json().isEmpty()) {
      System.out.println();
      print(deploymentRows(deployments.json()));
    }
    printFleet(admin.call("GET", "/api/v1/fleet"));
    return ready.ok() ? 0 : 1;
  }

  /** How many ended deployments the table shows, newest first, after every running one. */
  private static final int ENDED_SHOWN = 5;

  private static List<String[]> deploymentRows(JsonNode all) {
    List<JsonNode> running = new ArrayList<>();
    List<JsonNode> ended = new ArrayList<>();
    for (JsonNode d : all) { // oldest first
      (List.of("pending", "progressing", "paused").contains(d.get("state").asText()) ? running : ended).add(d);
    }
    List<JsonNode> shown = new ArrayList<>(running);
    for (int i = ended.size() - 1; i >= 0 && i >= ended.size() - ENDED_SHOWN; i--) {
      shown.add(ended.get(i));
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"DEPLOYMENT", "ROUTE", "TO", "STATE", "STEP", "WEIGHTS", "LAST VERDICT"});
    // In a fleet, a step due while Redis is unreachable is not taken: the state says so and the
    // weights shown are the last step applied, which every instance keeps serving.
    for (JsonNode d : shown) {
      List<String> weights = new ArrayList<>();
      for (JsonNode b : d.get("weights")) {
        weights.add(b.get("cluster").asText() + "=" + b.get("weight").asInt());
      }
      rows.add(new String[] {d.get("id").asText(), d.get("route").asText(), d.get("to").asText(),
          d.get("state").asText() + (d.hasNonNull("waitingForStore") ? ", waiting for the store since "
              + d.get("waitingForStore").path("since").asText() : ""), d.get("step").asInt() + "/" + d.get("steps").size() + " (" + d.get("percent").asInt() + "%)",
          String.join(" ", weights), lastVerdict(d.get("history"))});
    }
    return rows;
  }

  /** The newest history event with a verdict, shortened for a table; {@code -} before the first. */
  private static String lastVerdict(JsonNode history) {
    for (int i = history.size() - 1; i >= 0; i--) {
      JsonNode h = history.get(i);
      if (h.hasNonNull("verdict")) {
        String event = h.get("event").asText();
        return event.length() > 70 ? event.substring(0, 69) + "…" : event;
      }
    }
    return "-";
  }

  /** The fleet block; nothing for an instance without {@code fleet} (the API answers 404). */
  private static void printFleet(AdminClient.Answer fleet) {
    if (!fleet.ok() || fleet.json() == null) {
      return;
    }
    JsonNode f = fleet.json();
    System.out.println();
    System.out.println("fleet " + f.path("name").asText() + ": instance " + f.path("instance").asText()
        + ", redis " + f.path("redis").asText() + " since " + f.path("since").asText("-")
        + ", fleet version " + f.path("fleetVersion").asLong());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"INSTANCE", "ALIVE", "ADMIN", "GENERATION", "FLEET-VERSION", "VERSION", "LAST-HEARTBEAT"});
    for (JsonNode i : f.path("instances")) {
      rows.add(new String[] {i.path("instance").asText(), i.path("alive").asBoolean() ? "yes" : "no",
          i.path("admin").asText("-"), i.path("generation").asText(), i.path("fleetVersion").asText(),
          i.path("version").asText("-"), i.path("lastHeartbeat").asText()});
    }
    print(rows);
  }

  private static String millis(double ms) {
    return ms == 0 ? "-" : ms < 10 ? String.format("%.2fms", ms) : String.format("%.0fms", ms);
  }

  private static void print(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(String.format("%-" + (widths[i] + 2) + "s", row[i]));
      }
      System.out.println(line.toString().stripTrailing());
    }
  }
}
