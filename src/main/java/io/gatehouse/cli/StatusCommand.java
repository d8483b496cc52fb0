package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/** {@code gatehouse status}: routes with their weights and every cluster's endpoints, as a table. */
@Command(name = "status", description = "Show routes, clusters and endpoints of a running instance.")
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
    return ready.ok() ? 0 : 1;
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
