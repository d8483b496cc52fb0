package io.gatehouse.config;

/**
 * A check of a bound config that needs more than the config package may use (TLS parsing, DNS),
 * run by {@link ConfigLoader#load(java.nio.file.Path, java.util.List)} after validation, so that
 * its problems carry file positions like every other problem.
 */
public interface ConfigCheck {
  void check(GatehouseConfig config, Reporter reporter);

  /** Reports a problem at a config path, such as {@code listeners[0].tls.certificates[0].cert}. */
  interface Reporter {
    void problem(String path, String message);
  }
}
