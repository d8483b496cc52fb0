package io.gatehouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gatehouse reload}: asks a running instance to re-read its config. */
@Command(name = "reload", description = "Ask a running instance to reload its config.")
final class ReloadCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;

  @Override
  public Integer call() {
    return admin.call("POST", "/api/v1/reload");
  }
}
