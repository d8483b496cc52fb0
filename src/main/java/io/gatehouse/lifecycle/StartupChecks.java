package io.gatehouse.lifecycle;

import io.gatehouse.config.CertificateConfig;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.ConfigCheck;
import io.gatehouse.config.EndpointConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code gatehouse run} would refuse at start but the config loader cannot see without TLS or
 * DNS, for {@code gatehouse check}: certificates and keys that do not parse (built exactly as
 * {@link TlsContexts} builds them at start), cipher suites the TLS library lacks, and endpoint host
 * names that do not resolve.
 */
public final class StartupChecks {
  private StartupChecks() {}

  /** TLS material and endpoint names. DNS lookups block: for the command line, never an event loop. */
  public static List<ConfigCheck> all() {
    return List.of(StartupChecks::accessLog, StartupChecks::tls, StartupChecks::endpointNames);
  }

  /**
   * The access-log file is opened at start, so its directory must exist on this machine. Not a
   * loader check: a config is often validated (docs, CI) where it does not run.
   */
  static void accessLog(GatehouseConfig config, ConfigCheck.Reporter reporter) {
    String path = config.accessLog().path();
    if (!config.accessLog().enabled() || "-".equals(path)) {
      return;
    }
    Path file = Path.of(path);
    if (file.getParent() != null && !Files.isDirectory(file.getParent())) {
      reporter.problem("accessLog.path", "directory " + file.getParent() + " does not exist (expected: an existing directory)");
    } else if (Files.isDirectory(file)) {
      reporter.problem("accessLog.path", file + " is a directory (expected: a file path, or - for stdout)");
    }
  }

  static void tls(GatehouseConfig config, ConfigCheck.Reporter reporter) {
    for (int i = 0; i < config.listeners().size(); i++) {
      ListenerConfig listener = config.listeners().get(i);
      if (listener.tls() == null) {
        continue;
      }
      // Computed once for all the listener's certificates, as TlsContexts.forListener does.
      List<String> suites;
      List<io.netty.handler.ssl.OpenSslSessionTicketKey> ticketKeys;
      try {
        suites = TlsContexts.ciphers(listener.tls().ciphers(),
            listener.tls().alpn().contains(io.netty.handler.ssl.ApplicationProtocolNames.HTTP_2));
      } catch (IllegalArgumentException e) {
        reporter.problem("listeners[" + i + "].tls.ciphers", e.getMessage());
        continue; // the keys are checked by building a context, which these ciphers would fail
      }
      try {
        ticketKeys = TlsContexts.ticketKeys(listener.tls().sessionTicketKeys());
      } catch (IllegalArgumentException | java.io.IOException e) {
        reporter.problem("listeners[" + i + "].tls.sessionTicketKeys", e.getMessage());
        continue;
      }
      List<CertificateConfig> certs = listener.tls().certificates();
      for (int j = 0; j < certs.size(); j++) {
        String path = "listeners[" + i + "].tls.certificates[" + j + "]";
        try {
          TlsContexts.names(certs.get(j));
        } catch (Exception e) {
          reporter.problem(path + ".cert", "cannot read the certificate " + certs.get(j).cert() + ": " + reason(e)
              + " (expected: a PEM certificate chain)");
          continue;
        }
        try {
          TlsContexts.context(certs.get(j), listener.tls().alpn(), suites, ticketKeys);
        } catch (Exception e) {
          reporter.problem(path + ".key", "cannot use the key " + certs.get(j).key() + " with its certificate: "
              + reason(e) + " (expected: the PEM private key, PKCS#8, of the certificate)");
        }
      }
    }
  }

  static void endpointNames(GatehouseConfig config, ConfigCheck.Reporter reporter) {
    for (int i = 0; i < config.clusters().size(); i++) {
      ClusterConfig cluster = config.clusters().get(i);
      for (int j = 0; j < cluster.endpoints().size(); j++) {
        EndpointConfig endpoint = cluster.endpoints().get(j);
        String host = endpoint.address().host();
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
          continue;
        }
        try {
          InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
          reporter.problem("clusters[" + i + "].endpoints[" + j + "]",
              "host '" + host + "' does not resolve (expected: a name DNS knows, or an IP address)");
        }
      }
    }
  }

  private static String reason(Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
