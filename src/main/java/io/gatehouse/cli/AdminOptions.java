package io.gatehouse.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * Where a running instance's admin API is and how to authenticate, shared by the commands that
 * talk to it. The token comes from {@code $GATEHOUSE_ADMIN_TOKEN} or {@code --token-file}, so it
 * need not show in {@code ps}; {@code --token} exists for scripts that have no other way.
 */
final class AdminOptions {
  @Option(names = "--admin", defaultValue = "127.0.0.1:9901", description = "admin address (default ${DEFAULT-VALUE})")
  String admin;

  @Option(names = "--token", defaultValue = "${env:GATEHOUSE_ADMIN_TOKEN}",
      description = "admin bearer token (default: $GATEHOUSE_ADMIN_TOKEN; visible in ps, prefer the variable or --token-file)")
  String token;

  @Option(names = "--token-file", description = "file holding the admin bearer token (first line)")
  Path tokenFile;

  AdminClient.Answer call(String method, String path) throws AdminClient.Unreachable {
    return call(method, path, null, Duration.ofSeconds(10));
  }

  AdminClient.Answer call(String method, String path, String body, Duration timeout) throws AdminClient.Unreachable {
    return AdminClient.call(admin, method, path, token(), body, timeout);
  }

  private String token() throws AdminClient.Unreachable {
    if (tokenFile == null) {
      return token;
    }
    try {
      return Files.readAllLines(tokenFile).stream().findFirst().orElse("").strip();
    } catch (IOException e) {
      throw new AdminClient.Unreachable("cannot read --token-file " + tokenFile + ": " + e.getMessage(), e);
    }
  }
}
