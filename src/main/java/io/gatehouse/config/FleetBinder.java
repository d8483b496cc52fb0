package io.gatehouse.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/** Binds the {@code fleet} section: where Redis is, who this instance is, how often it says so. */
final class FleetBinder {
  static final List<String> KEYS = List.of("redis", "username", "password", "instance", "name", "heartbeat", "timeout",
      "expectedInstances", "tls");
  /** Instance and fleet names go into Redis keys and logs: a safe, readable alphabet. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  private static final String NAME_EXPECTED = "1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit";

  private FleetBinder() {}

  static FleetConfig bind(Section s) {
    if (s == null) {
      return null;
    }
    FleetConfig.RedisAddress redis = null;
    String text = s.requiredString("redis", "a Redis address such as redis://127.0.0.1:6379 or rediss://host:6380");
    if (text != null) {
      redis = address(s, text.strip());
    }
    String username = s.has("username") ? s.requiredString("username", "a Redis ACL user name") : null;
    String password = s.has("password") ? s.requiredString("password", "the Redis password, e.g. ${REDIS_PASSWORD}") : null;
    if (username != null && password == null) {
      s.problem("username", "set without password (expected: both, or password alone)");
    }
    String instance = s.has("instance") ? name(s, "instance") : defaultInstance();
    String name = s.has("name") ? name(s, "name") : FleetConfig.DEFAULT_NAME;
    Duration heartbeat = s.duration("heartbeat", FleetConfig.DEFAULT_HEARTBEAT);
    if (heartbeat.compareTo(Duration.ofMillis(100)) < 0 || heartbeat.compareTo(Duration.ofMinutes(1)) > 0) {
      s.problem("heartbeat", heartbeat.toMillis() + "ms (expected: 100ms..1m)");
    }
    Duration timeout = s.duration("timeout", FleetConfig.DEFAULT_TIMEOUT);
    if (timeout.compareTo(Duration.ofMillis(50)) < 0 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
      s.problem("timeout", timeout.toMillis() + "ms (expected: 50ms..1m)");
    }
    int expectedInstances = s.integer("expectedInstances", 1, 1, 1000);
    FleetConfig.Tls tls = tls(s.section("tls", List.of("ca", "cert", "key")));
    if (tls != null && redis != null && !redis.tls()) {
      s.problem("tls", "set for " + redis + " (expected: a rediss:// address, or no tls)");
    }
    return new FleetConfig(redis, username, password, instance, name, heartbeat, timeout, expectedInstances, tls);
  }

  /** {@code tls: {ca, cert, key}}: every key optional, but a client certificate needs its key. */
  private static FleetConfig.Tls tls(Section s) {
    if (s == null) {
      return null;
    }
    Path ca = s.has("ca") ? s.file("ca", "PEM CA certificates to trust for Redis") : null;
    if (ca != null && Files.isRegularFile(ca)) {
      certificates(s, ca);
    }
    Path cert = s.has("cert") ? s.file("cert", "a PEM client certificate chain") : null;
    Path key = s.has("key") ? s.file("key", "the client certificate's PEM private key") : null;
    if (s.has("cert") != s.has("key")) {
      String set = s.has("cert") ? "cert" : "key";
      s.problem(set, "set without " + (s.has("cert") ? "key" : "cert") + " (expected: both, for a client certificate)");
    }
    return new FleetConfig.Tls(ca, cert, key);
  }

  /** Reads {@code file} as X.509 certificates now, so a wrong file is a config error, not an outage. */
  private static void certificates(Section s, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        s.problem("ca", "no certificate in " + file + " (expected: PEM CA certificates)");
      }
    } catch (IOException | CertificateException e) {
      s.problem("ca", "cannot read certificates from " + file + ": " + e.getMessage()
          + " (expected: PEM CA certificates)");
    }
  }

  /**
   * {@code redis://host[:port][/db]} or {@code rediss://...}. A password in the address is refused:
   * it would show in {@code GET /api/v1/config} and in logs; {@code password} is redacted.
   */
  private static FleetConfig.RedisAddress address(Section s, String text) {
    String expected = " (expected: redis://host:port[/db] or rediss://host:port[/db])";
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      s.problem("redis", "'" + text + "' is not an address: " + e.getReason() + expected);
      return null;
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("redis") || scheme.equals("rediss"))) {
      s.problem("redis", "'" + text + "': scheme " + (scheme == null ? "missing" : "'" + scheme + "'") + expected);
      return null;
    }
    if (uri.getRawUserInfo() != null) {
      s.problem("redis", "has a user or password in the address (expected: fleet.password and fleet.username,"
          + " which are redacted; the address is not)");
      return null;
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      s.problem("redis", "'" + text + "': no host" + expected);
      return null;
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      s.problem("redis", "'" + text + "': query or fragment not supported" + expected);
      return null;
    }
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    if (port == 0) {
      s.problem("redis", "'" + text + "': port 0" + expected);
      return null;
    }
    int database = 0;
    String path = uri.getPath();
    if (path != null && !path.isEmpty() && !path.equals("/")) {
      try {
        database = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException e) {
        database = -1;
      }
      if (database < 0 || database > 15) {
        s.problem("redis", "'" + text + "': database '" + path.substring(1) + "' (expected: 0..15 after the /)");
        return null;
      }
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new FleetConfig.RedisAddress(scheme.equals("rediss"), host, port, database);
  }

  private static String name(Section s, String key) {
    String text = s.requiredString(key, NAME_EXPECTED);
    if (text != null && !NAME.matcher(text).matches()) {
      s.problem(key, "'" + text + "' (expected: " + NAME_EXPECTED + ")");
    }
    return text;
  }

  /** The host name, made safe for a key; an instance must be named where it has none. */
  private static String defaultInstance() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = System.getenv().getOrDefault("HOSTNAME", "gatehouse");
    }
    String safe = host.replaceAll("[^A-Za-z0-9._-]", "-");
    return safe.isEmpty() || !NAME.matcher(safe).matches() ? "gatehouse" : safe;
  }
}
