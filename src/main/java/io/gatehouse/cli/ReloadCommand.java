package io.gatehouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;

/** {@code gatehouse reload}: asks a running instance to re-read its config. */
@Command(name = "reload", description = "Ask a running instance to reload its config.")
final class ReloadCommand extends AdminCommand {
  @Override
  int run() throws AdminClient.Unreachable {
    AdminClient.Answer answer = admin.call("POST", "/api/v1/reload");
    if (answer.ok()) {
      System.out.println("reloaded: config generation " + answer.json().get("generation").asLong());
      return 0;
    }
    if (answer.json() != null && answer.json().has("problems")) {
      System.err.println("reload refused, config generation " + answer.json().get("generation").asLong()
          + " stays in use:");
      for (JsonNode p : answer.json().get("problems")) {
        String path = p.get("path").asText();
        System.err.println(p.get("file").asText() + ":" + p.get("line").asInt() + ":" + p.get("col").asInt() + ": "
            + (path.isEmpty() ? "" : path + ": ") + p.get("message").asText());
      }
      return 1;
    }
    return refused(answer);
  }
}
