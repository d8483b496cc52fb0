package io.gatehouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatehouse status}: reports whether a running instance is ready. */
@Command(name = "status", description = "Show whether a running instance is ready.")
final class StatusCommand implements Callable<Integer> {
  @Option(names = "--admin", defaultValue = "127.0.0.1:9901", description = "admin address (default ${DEFAULT-VALUE})")
  String admin;

  @Option(names = "--token", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}", description = "admin bearer token")
  String token;

  @Override
  public Integer call() {
    return AdminClient.call(admin, "GET", "/ready", token);
  }
}
