package io.gatehouse.cli;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.lifecycle.StartupChecks;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gatehouse check -c FILE}: exit 0 when valid, 1 with every problem listed otherwise. */
@Command(name = "check", description = "Validate a config file and print every problem with its position.")
final class CheckCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "config file (YAML)")
  Path config;

  @Override
  public Integer call() {
    try {
      // The start-up checks too (TLS material, endpoint names), so check refuses what run refuses.
      ConfigLoader.load(config, StartupChecks.all());
      System.out.println(config + ": ok");
      return 0;
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 1;
    }
  }
}
