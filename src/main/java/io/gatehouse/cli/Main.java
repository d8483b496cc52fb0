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
    // Leak detection samples allocations on the data path (about 15% of the CPU per request,
    // measured); tests turn it on at paranoid level explicitly, production leaves it off.
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      System.setProperty("io.netty.leakDetection.level", "disabled");
    }
    System.exit(execute(args));
  }

  static int execute(String... args) {
    return new CommandLine(new Main()).execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: run, check, reload, status, drain, enable, disable, weights, config or version");
  }
}
