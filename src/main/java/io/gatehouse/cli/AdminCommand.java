package io.gatehouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * A command that talks to the admin API: exit 0 when it did what was asked, 1 when the instance
 * refused or could not be reached (usage errors exit 2 through picocli).
 */
abstract class AdminCommand implements Callable<Integer> {
  @Mixin AdminOptions admin;

  @Override
  public final Integer call() {
    try {
      return run();
    } catch (AdminClient.Unreachable e) {
      System.err.println("gatehouse: " + e.getMessage());
      return 1;
    }
  }

  abstract int run() throws AdminClient.Unreachable;

  /** Prints a refusal to stderr and returns 1. */
  static int refused(AdminClient.Answer answer) {
    System.err.println("gatehouse: refused (" + answer.status() + "): " + answer.error());
    return 1;
  }
}
