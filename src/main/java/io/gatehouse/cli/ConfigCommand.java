package io.gatehouse.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import picocli.CommandLine.Command;

/** {@code gatehouse config}: the running config (secrets redacted) and the overrides on it. */
@Command(name = "config", description = "Print the running config (secrets redacted) and runtime overrides.")
final class ConfigCommand extends AdminCommand {
  @Override
  int run() throws AdminClient.Unreachable {
    AdminClient.Answer answer = admin.call("GET", "/api/v1/config");
    if (!answer.ok()) {
      return refused(answer);
    }
    try {
      System.out.println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer.json()));
    } catch (JsonProcessingException e) {
      System.out.println(answer.text());
    }
    return 0;
  }
}
