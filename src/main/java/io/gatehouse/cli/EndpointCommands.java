package io.gatehouse.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gatehouse drain|enable|disable CLUSTER ADDRESS}: an endpoint's admin state. */
final class EndpointCommands {
  private EndpointCommands() {}

  abstract static class EndpointCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "CLUSTER", description = "cluster name")
    String cluster;

    @Parameters(index = "1", paramLabel = "ADDRESS", description = "endpoint address, host:port")
    String address;

    String path(String action) {
      return "/api/v1/clusters/" + encode(cluster) + "/endpoints/" + encode(address) + "/" + action;
    }

    int print(AdminClient.Answer answer) {
      if (!answer.ok()) {
        return refused(answer);
      }
      System.out.println(cluster + " " + answer.json().get("address").asText() + ": " + answer.json().get("state").asText()
          + " (generation " + answer.json().get("generation").asLong() + ", in flight "
          + answer.json().path("inFlight").asLong() + ")");
      if (answer.json().has("warning")) {
        System.err.println("warning: " + answer.json().get("warning").asText());
      }
      return 0;
    }
  }

  @Command(name = "drain", description = "Stop sending new requests to an endpoint; in-flight ones finish.")
  static final class Drain extends EndpointCommand {
    @Option(names = "--wait", paramLabel = "DURATION",
        description = "wait until its in-flight requests reach 0 (e.g. 30s); exit 1 if some are left")
    String wait;

    @Override
    int run() throws AdminClient.Unreachable {
      if (wait == null) {
        return print(admin.call("POST", path("drain")));
      }
      Duration timeout = Duration.ofMinutes(11);
      AdminClient.Answer answer = admin.call("POST", path("drain") + "?wait=" + encode(wait), null, timeout);
      int exit = print(answer);
      if (exit == 0 && answer.status() == 202) {
        System.err.println("drain is in effect, but " + answer.json().get("inFlight").asLong()
            + " requests were still in flight after " + wait);
        return 1;
      }
      return exit;
    }
  }

  @Command(name = "enable", description = "Put an endpoint back into service (slow start applies).")
  static final class Enable extends EndpointCommand {
    @Override
    int run() throws AdminClient.Unreachable {
      return print(admin.call("POST", path("enable")));
    }
  }

  @Command(name = "disable", description = "Take an endpoint out of service at once.")
  static final class Disable extends EndpointCommand {
    @Override
    int run() throws AdminClient.Unreachable {
      return print(admin.call("POST", path("disable")));
    }
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
