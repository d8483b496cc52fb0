package io.gatehouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatehouse reload}: asks a running instance to re-read its config. */
@Command(name = "reload", description = "Ask a running instance to reload its config.")
final class ReloadCommand implements Callable<Integer> {
  @Option(names = "--admin", defaultValue = "127.0.0.1:9901", description = "admin address (default ${DEFAULT-VALUE})")
  String admin;

  @Option(names = "--token", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}", description = "admin bearer token")
  String token;

  @Override
  public Integer call() {
    return AdminClient.call(admin, "POST", "/api/v1/reload", token);
  }
}
