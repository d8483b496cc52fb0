package io.gatehouse.cli;

import picocli.CommandLine.Option;

/** Where a running instance's admin API is, shared by the commands that talk to it. */
final class AdminOptions {
  @Option(names = "--admin", defaultValue = "127.0.0.1:9901", description = "admin address (default ${DEFAULT-VALUE})")
  String admin;

  @Option(names = "--token", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}",
      description = "admin bearer token (default: $GATEHOUSE_ADMIN_TOKEN)")
  String token;

  int call(String method, String path) {
    return AdminClient.call(admin, method, path, token);
  }
}
