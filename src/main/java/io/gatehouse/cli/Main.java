package io.gatehouse.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point: {@code gatehouse run|check|reload|status|drain|enable|disable|weights|config|version}.
 * Usage errors exit 2.
 */
@Command(
    name = "gatehouse",
    mixinStandardHelpOptions = true,
    // INHERIT gives every subcommand -h/--help and -V/--version too ("gatehouse run --help").
    scope = CommandLine.ScopeType.INHERIT,
    versionProvider = VersionCommand.Provider.class,
    description = "Forward and reverse HTTP proxy with zero-downtime deployment.",
    subcommands = {RunCommand.class, CheckCommand.class, ReloadCommand.class, StatusCommand.class,
        EndpointCommands.Drain.class, EndpointCommands.Enable.class, EndpointCommands.Disable.class,
        WeightsCommand.class, DeployCommands.Deploy.class, DeployCommands.Rollback.class, ConfigCommand.class,
        VersionCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    nettyDefaults(System.getProperties());
    System.exit(execute(args));
  }

  /**
   * Netty settings this server runs with unless the command line sets them (-D...): read once, when
   * Netty's classes load, so set before anything touches Netty.
   */
  static void nettyDefaults(java.util.Properties properties) {
    // Leak detection samples allocations on the data path (about 15% of the CPU per request,
    // measured); tests turn it on at paranoid level explicitly, production leaves it off.
    if (properties.getProperty("io.netty.leakDetection.level") == null) {
      properties.setProperty("io.netty.leakDetection.level", "disabled");
    }
    // Netty's object pools keep released objects in a per-thread batch of 32 and pass the rest
    // through a concurrent queue, with a Thread.getState() call each. An HTTP/2 connection's read
    // releases far more than 32 pooled buffers' handles at once: that overflow path was ~6.7% of the
    // event loop under h2 load and is gone with a batch of 256 (docs/benchmarks.md).
    if (properties.getProperty("io.netty.recycler.chunkSize") == null) {
      properties.setProperty("io.netty.recycler.chunkSize", "256");
    }
    // The pooled allocator counts the bytes its buffers pin with a LongAdder add on every
    // allocation and every release (two atomic read-modify-writes per buffer, several buffers per
    // request). Only its pinned-memory metric reads the count, and Gatehouse exports none.
    if (properties.getProperty("io.netty.trackPinnedMemory") == null) {
      properties.setProperty("io.netty.trackPinnedMemory", "false");
    }
  }

  static int execute(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: run, check, reload, status, drain, enable, disable, weights, config or version");
  }
}
