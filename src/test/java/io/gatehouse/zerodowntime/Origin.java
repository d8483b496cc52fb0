package io.gatehouse.zerodowntime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One {@link OriginMain} process (blue, green, ...): its port, what is open on it, and kill -9. */
final class Origin implements AutoCloseable {
  private static final HttpClient DIRECT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  final String name;
  private final Process process;
  final int port;

  private Origin(String name, Process process, int port) {
    this.name = name;
    this.process = process;
    this.port = port;
  }

  /** Starts the named origins side by side and returns them once each is listening. */
  static List<Origin> start(String classpath, Path dir, String... names) throws IOException, InterruptedException {
    List<Process> processes = new ArrayList<>();
    List<Origin> origins = new ArrayList<>();
    try {
      for (String name : names) {
        processes.add(Processes.java(classpath, List.of("-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
            OriginMain.class.getName(), List.of(name), log(dir, name)));
      }
      for (int i = 0; i < names.length; i++) {
        origins.add(new Origin(names[i], processes.get(i), awaitPort(processes.get(i), log(dir, names[i]))));
      }
      return origins;
    } catch (IOException | RuntimeException e) {
      processes.forEach(Process::destroyForcibly);
      throw e;
    }
  }

  private static Path log(Path dir, String name) {
    return dir.resolve("origin-" + name + ".log");
  }

  private static int awaitPort(Process process, Path log) throws IOException, InterruptedException {
    int[] port = {0};
    Processes.await(() -> {
      try {
        for (String line : Files.readAllLines(log)) {
          if (line.startsWith(OriginMain.LISTENING)) {
            port[0] = Integer.parseInt(line.substring(OriginMain.LISTENING.length()).trim());
            return true;
          }
        }
      } catch (IOException e) {
        return false;
      }
      return !process.isAlive();
    }, 30);
    if (port[0] == 0) {
      throw new IOException("origin did not start: " + Files.readString(log));
    }
    return port[0];
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  /** {@code kill -9}: its connections are reset by the kernel, nothing is finished. */
  void kill9() throws IOException, InterruptedException {
    Processes.signal(process.pid(), "KILL");
    process.waitFor(10, TimeUnit.SECONDS);
  }

  boolean alive() {
    return process.isAlive();
  }

  /** HTTP exchanges (downloads and requests) open on this origin now, asked directly. */
  int httpInFlight() throws IOException, InterruptedException {
    String body = DIRECT.send(HttpRequest.newBuilder(URI.create("http://" + address() + "/_inflight"))
        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
    return Integer.parseInt(body.split(" ")[1]);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
