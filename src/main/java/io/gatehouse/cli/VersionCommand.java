package io.gatehouse.cli;

import io.netty.channel.epoll.Epoll;
import io.netty.handler.ssl.OpenSsl;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code gatehouse version}: version, Java, transport and TLS provider. */
@Command(name = "version", description = "Print version, Java version, transport and TLS provider.")
final class VersionCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    for (String line : lines()) {
      System.out.println(line);
    }
    return 0;
  }

  static String[] lines() {
    String version = Main.class.getPackage().getImplementationVersion();
    return new String[] {
      "gatehouse " + (version == null ? "dev" : version),
      "java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")",
      "transport " + (Epoll.isAvailable() ? "epoll" : "nio"),
      "tls " + (OpenSsl.isAvailable() ? "openssl (" + OpenSsl.versionString() + ")" : "jdk")
    };
  }

  static final class Provider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return lines();
    }
  }
}
