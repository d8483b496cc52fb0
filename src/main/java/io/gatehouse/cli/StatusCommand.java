package io.gatehouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code gatehouse status}: reports whether a running instance is ready. */
@Command(name = "status", description = "Show whether a running instance is ready.")
final class StatusCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;

  @Override
  public Integer call() {
    return admin.call("GET", "/ready");
  }
}
