package io.gatehouse.lifecycle;

import io.gatehouse.testing.FreePorts;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Gatehouse as real processes for the hand-off tests ({@code gatehouse run}, {@code --takeover}):
 * the test's class path, a small heap, each one's output in {@code NAME.log} of a directory; all
 * killed at the end.
 */
final class GatehouseProcesses implements AutoCloseable {
  private final Path dir;
  private final List<Process> processes = new ArrayList<>();

  GatehouseProcesses(Path dir) {
    this.dir = dir;
  }

  /** Starts {@code gatehouse ARGS}; leading {@code -D...} arguments go to the JVM. */
  Process start(String name, String... args) throws IOException {
    return start(name, List.of(), args);
  }

  /**
   * Starts {@code gatehouse ARGS} with at most {@code descriptors} open files ({@code prlimit}, soft
   * and hard: the JVM cannot raise it).
   */
  Process startWithDescriptorLimit(String name, int descriptors, String... args) throws IOException {
    return start(name, List.of("prlimit", "--nofile=" + descriptors + ":" + descriptors), args);
  }

  private Process start(String name, List<String> prefix, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1"));
    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty() && rest.get(0).startsWith("-D")) {
      command.add(rest.remove(0));
    }
    command.addAll(List.of("-cp", classPath(), "io.gatehouse.cli.Main"));
    command.addAll(rest);
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile()).start();
    processes.add(p);
    return p;
  }

  /** Starts {@code gatehouse run -c CONFIG} (without --takeover) and waits until it serves. */
  Process startServing(String name, Path config) throws IOException {
    Process p = start(name, "run", "-c", config.toString());
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> log(name).contains("Gatehouse started"));
    return p;
  }

  /** The admin API's metrics on {@code adminPort}, of whichever process holds the admin socket now. */
  static String metrics(int adminPort) throws IOException, InterruptedException {
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + adminPort + "/metrics")).timeout(java.time.Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  /**
   * The test's class path with the main classes as one jar, as Gatehouse ships (a class loaded late,
   * on the hand-off's path, is read from a jar the JVM holds open; from a directory it needs a
   * descriptor of its own, which a process at its descriptor limit does not have).
   */
  private static String classPath() throws IOException {
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path path = Path.of(entry);
      entries.add(Files.isDirectory(path) && path.endsWith(Path.of("target", "classes")) ? classesJar(path).toString() : entry);
    }
    return String.join(java.io.File.pathSeparator, entries);
  }

  /** Built once per test JVM (the main classes do not change while tests run), removed at its exit. */
  private static Path classesJar;

  private static synchronized Path classesJar(Path classes) throws IOException {
    if (classesJar != null) {
      return classesJar;
    }
    Path jar = Files.createTempFile("gatehouse-classes", ".jar");
    jar.toFile().deleteOnExit();
    try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        java.util.stream.Stream<Path> files = Files.walk(classes)) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(new java.util.jar.JarEntry(classes.relativize(file).toString().replace(java.io.File.separatorChar, '/')));
        Files.copy(file, out);
        out.closeEntry();
      }
    }
    classesJar = jar;
    return jar;
  }

  /** Kills {@code p} at the end too (a process started some other way). */
  void add(Process p) {
    processes.add(p);
  }

  /** What the process of that name wrote so far. */
  String log(String name) {
    try {
      return Files.readString(dir.resolve(name + ".log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    processes.forEach(Process::destroyForcibly);
  }
}
