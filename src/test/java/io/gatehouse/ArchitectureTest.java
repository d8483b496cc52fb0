package io.gatehouse;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the package edges of DESIGN.md ("Packages": dependencies point down; forward and reverse
 * never import each other; upstream, ratelimit, metrics and config know no Netty) true. Reads the
 * sources under {@code src/main/java}: every import and every fully qualified
 * {@code io.gatehouse.x.} or {@code io.netty.} reference in code (comments are skipped), so an
 * inline qualified name cannot sneak past.
 */
class ArchitectureTest {
  private static final Path SOURCES = Path.of("src/main/java/io/gatehouse");

  /** Which other Gatehouse packages each package may use. {@code *} = any. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("lifecycle", Set.of("*")),
      Map.entry("fleet", Set.of("config", "metrics", "deploy", "ratelimit")), // Redis through Lettuce; lifecycle wires it
      Map.entry("cli", Set.of("lifecycle", "config", "admin", "metrics", "http")),
      Map.entry("deploy", Set.of("upstream", "config", "metrics", "health")), // pure logic: no Netty (NO_NETTY)
      Map.entry("admin", Set.of("config", "metrics")), // nothing of the data path: lifecycle implements AdminBackend
      Map.entry("listener", Set.of("forward", "reverse", "relay", "http", "config", "metrics")), // relay: an HTTP/2 stream's side
      Map.entry("forward", Set.of("relay", "pool", "upstream", "ratelimit", "http", "config", "metrics")),
      Map.entry("reverse", Set.of("relay", "pool", "upstream", "ratelimit", "http", "config", "metrics")),
      Map.entry("relay", Set.of("http", "ratelimit", "metrics")), // ratelimit: the per-client limit applies to every listener
      Map.entry("pool", Set.of("upstream", "config", "http", "metrics")), // http: Reason for connect failures
      Map.entry("health", Set.of("upstream", "config", "metrics")),
      Map.entry("upstream", Set.of("config", "metrics")),
      Map.entry("ratelimit", Set.of()),
      Map.entry("metrics", Set.of()),
      Map.entry("http", Set.of()),
      Map.entry("config", Set.of()));

  /** Pure-logic packages: JDK (and their allowed Gatehouse packages) only, no Netty. */
  private static final Set<String> NO_NETTY = Set.of("upstream", "ratelimit", "metrics", "config", "deploy");

  private static final Pattern REFERENCE = Pattern.compile("\\bio\\.(gatehouse|netty)\\.([a-z0-9_]+)[\\w.]*");

  @Test
  void every_package_is_in_the_design_table() throws IOException {
    List<String> unknown = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(SOURCES)) {
      dirs.filter(Files::isDirectory)
          .map(d -> d.getFileName().toString())
          .filter(p -> !ALLOWED.containsKey(p))
          .forEach(unknown::add);
    }
    assertThat(unknown)
        .as("packages under io.gatehouse missing from DESIGN.md's table (add them there and to ALLOWED)")
        .isEmpty();
  }

  @Test
  void package_dependencies_follow_the_design() throws IOException {
    Set<String> violations = violations(SOURCES);
    if (!violations.isEmpty()) {
      throw new AssertionError("package edges of DESIGN.md broken by " + violations.size() + " reference(s):\n  "
          + String.join("\n  ", violations)
          + "\nallowed edges: " + new java.util.TreeMap<>(ALLOWED) + "; no Netty in " + new TreeSet<>(NO_NETTY));
    }
  }

  @Test
  void the_check_itself_finds_forbidden_edges(@org.junit.jupiter.api.io.TempDir Path root) throws IOException {
    write(root, "upstream/Bad.java", "package io.gatehouse.upstream;\nimport io.netty.channel.Channel;\n");
    write(root, "forward/Peek.java", "package io.gatehouse.forward;\n// io.gatehouse.reverse in a comment is fine\n"
        + "class Peek { Object r = new io.gatehouse.reverse.RouteTable(null); String s = \"io.gatehouse.admin\"; }\n");
    write(root, "relay/Fine.java", "package io.gatehouse.relay;\nimport io.gatehouse.http.Reason;\nimport io.netty.channel.Channel;\n");
    assertThat(violations(root)).satisfiesExactlyInAnyOrder(
        v -> assertThat(v).startsWith("io/gatehouse/forward/Peek.java:3: forward -> io.gatehouse.reverse.RouteTable")
            .contains("never import each other"),
        v -> assertThat(v).startsWith("io/gatehouse/upstream/Bad.java:2: upstream -> io.netty.channel.Channel")
            .contains("must not use Netty"));
  }

  private static void write(Path root, String file, String text) throws IOException {
    Path path = root.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, text);
  }

  static Set<String> violations(Path root) throws IOException {
    Set<String> violations = new TreeSet<>();
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(f -> f.toString().endsWith(".java")).forEach(file -> check(root, file, violations));
    }
    return violations;
  }

  private static void check(Path root, Path file, Set<String> violations) {
    Path relative = root.relativize(file);
    if (relative.getNameCount() < 2) {
      return; // io/gatehouse/*.java: none today
    }
    String pkg = relative.getName(0).toString();
    Set<String> allowed = ALLOWED.getOrDefault(pkg, Set.of());
    String code = stripComments(read(file));
    String[] lines = code.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      Matcher m = REFERENCE.matcher(lines[i]);
      while (m.find()) {
        String where = "io/gatehouse/" + relative + ":" + (i + 1) + ": ";
        if (m.group(1).equals("netty")) {
          if (NO_NETTY.contains(pkg)) {
            violations.add(where + pkg + " -> " + m.group() + " (" + pkg + " must not use Netty)");
          }
          continue;
        }
        String target = m.group(2);
        if (target.equals(pkg) || allowed.contains("*") || allowed.contains(target)) {
          continue;
        }
        String why = (pkg.equals("forward") && target.equals("reverse")) || (pkg.equals("reverse") && target.equals("forward"))
            ? "forward and reverse never import each other"
            : pkg + " may use only " + new TreeSet<>(allowed);
        violations.add(where + pkg + " -> " + m.group() + " (" + why + ")");
      }
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Blanks comments (keeping line breaks for line numbers) and string literals' contents. */
  static String stripComments(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int i = 0;
    int n = source.length();
    while (i < n) {
      char c = source.charAt(i);
      if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
        while (i < n && source.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
        i += 2;
        while (i < n && !(source.charAt(i) == '*' && i + 1 < n && source.charAt(i + 1) == '/')) {
          if (source.charAt(i) == '\n') {
            out.append('\n');
          }
          i++;
        }
        i += 2;
      } else if (c == '"') {
        out.append('"');
        i++;
        while (i < n && source.charAt(i) != '"') {
          if (source.charAt(i) == '\\') {
            i++;
          } else if (source.charAt(i) == '\n') {
            out.append('\n');
          }
          i++;
        }
        out.append('"');
        i++;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
