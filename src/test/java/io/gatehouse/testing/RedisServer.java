package io.gatehouse.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on 127.0.0.1 and a free port, without persistence, for fleet tests:
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.start()) {
 *   String yaml = "fleet: { redis: \"" + redis.uri() + "\", instance: a }";
 *   redis.stop();     // an outage: the port refuses connections
 *   redis.restart();  // back on the same port, empty (nothing was saved)
 * }
 * }</pre>
 *
 * <p>{@link #startTls} adds a {@code rediss://} port ({@link #tlsUri}) beside the plain one.
 *
 * <p>{@link #command} speaks RESP on a socket of its own, for what a test must do behind
 * Gatehouse's back ({@code CLIENT KILL}, reading a key). The binary is required: fleet tests fail
 * with a clear message rather than skip, and {@code .ci/run} installs Debian's {@code redis-server}.
 */
public final class RedisServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration IO_TIMEOUT = Duration.ofSeconds(5);

  private final Path dir;
  private int port;
  /** 0 without TLS; else the {@code rediss://} port beside the plain one {@link #command} uses. */
  private int tlsPort;
  private List<String> tlsArgs = List.of();
  private Process process;

  private RedisServer(Path dir) {
    this.dir = dir;
  }

  /** Starts on a free port; a port taken between the pick and the bind is retried on another. */
  public static RedisServer start() throws IOException, InterruptedException {
    if (binary() == null) {
      throw new IllegalStateException("redis-server not found on PATH (expected: apt-get install redis-server;"
          + " .ci/run installs it)");
    }
    RedisServer redis = new RedisServer(Files.createTempDirectory("gatehouse-redis"));
    IOException last = null;
    for (int i = 0; i < 5; i++) {
      redis.port = FreePorts.take();
      try {
        redis.launch();
        return redis;
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /**
   * Starts with a TLS port too, serving {@code server}'s certificate; with {@code clientCa}, clients
   * must show a certificate it signed (Redis's {@code tls-auth-clients yes}), else none is asked.
   * The plain port stays for {@link #command}.
   */
  public static RedisServer startTls(TestCerts server, Path clientCa) throws IOException, InterruptedException {
    RedisServer redis = start();
    redis.stop();
    redis.tlsPort = FreePorts.take();
    redis.tlsArgs = List.of("--tls-port", String.valueOf(redis.tlsPort),
        "--tls-cert-file", server.certificate().toString(), "--tls-key-file", server.privateKey().toString(),
        "--tls-ca-cert-file", (clientCa != null ? clientCa : server.certificate()).toString(),
        "--tls-auth-clients", clientCa != null ? "yes" : "no");
    redis.restart();
    return redis;
  }

  /** {@code rediss://127.0.0.1:TLSPORT}, for a {@code fleet.redis} key; see {@link #startTls}. */
  public String tlsUri() {
    if (tlsPort == 0) {
      throw new IllegalStateException("started without TLS (expected: RedisServer.startTls)");
    }
    return "rediss://127.0.0.1:" + tlsPort;
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:PORT}, for a {@code fleet.redis} key. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public boolean running() {
    return process != null && process.isAlive();
  }

  /** Kills the server (an outage: every client connection drops, the port refuses). */
  public void stop() throws InterruptedException {
    if (process != null) {
      try {
        signal("CONT"); // a paused server would not act on SIGTERM until thawed
      } catch (IOException ignored) {
        // gone already
      }
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  /**
   * Freezes the server (SIGSTOP): connections stay open and every command waits, as on a Redis
   * stalled by a slow disk or a long script; {@link #resume} thaws it.
   */
  public void pause() throws IOException, InterruptedException {
    signal("STOP");
  }

  public void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start();
    if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  /** Starts again on the same port, empty; retries the bind while the old socket lingers. */
  public void restart() throws IOException, InterruptedException {
    stop();
    IOException last = null;
    for (int i = 0; i < 20; i++) {
      try {
        launch();
        return;
      } catch (IOException e) {
        last = e;
        Thread.sleep(100);
      }
    }
    throw last;
  }

  private void launch() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(binary(), "--port", String.valueOf(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "yes"));
    command.addAll(tlsArgs);
    Process p = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("redis-" + port + ".log").toFile())
        .start();
    long end = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() - end < 0) {
      if (!p.isAlive()) {
        throw new IOException("redis-server on port " + port + " exited with " + p.exitValue() + ": "
            + Files.readString(dir.resolve("redis-" + port + ".log")).strip());
      }
      try {
        if ("PONG".equals(command("PING"))) {
          process = p;
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(20);
    }
    p.destroyForcibly();
    throw new IOException("redis-server on port " + port + " did not answer PING within " + START_TIMEOUT);
  }

  /**
   * Sends one command and returns its reply as text: a status or bulk string as is, an integer in
   * decimal, an error as {@code ERR ...} prefixed with {@code -}, an array as its items joined by
   * newlines, a null as {@code null}.
   */
  public String command(String... args) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) IO_TIMEOUT.toMillis());
      socket.setSoTimeout((int) IO_TIMEOUT.toMillis());
      StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
      for (String a : args) {
        request.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return reply(new BufferedInputStream(socket.getInputStream()));
    }
  }

  private static String reply(InputStream in) throws IOException {
    String line = line(in);
    char type = line.charAt(0);
    String rest = line.substring(1);
    switch (type) {
      case '+', ':':
        return rest;
      case '-':
        return line;
      case '$': {
        int length = Integer.parseInt(rest);
        if (length < 0) {
          return "null";
        }
        byte[] data = in.readNBytes(length + 2);
        return new String(data, 0, length, StandardCharsets.UTF_8);
      }
      case '*': {
        int count = Integer.parseInt(rest);
        if (count < 0) {
          return "null";
        }
        List<String> items = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          items.add(reply(in));
        }
        return String.join("\n", items);
      }
      default:
        throw new IOException("unexpected RESP reply: " + line);
    }
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read(); // the \n
        return sb.toString();
      }
      sb.append((char) c);
    }
    throw new IOException("connection closed mid-reply");
  }

  private static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, "redis-server");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // a temp dir left behind is harmless
    }
  }
}
