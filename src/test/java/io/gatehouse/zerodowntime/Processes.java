package io.gatehouse.zerodowntime;

import io.gatehouse.testing.FreePorts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starting the suite's child processes (origins, Gatehouse) and sending them signals. */
final class Processes {
  private Processes() {}

  /** {@code java -cp CLASSPATH [jvmArgs] mainClass args}, output to {@code log}. */
  static Process java(String classpath, List<String> jvmArgs, String mainClass, List<String> args, Path log)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    command.addAll(args);
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Runs a short command to completion (bounded), returning its exit code. */
  static int run(List<String> command, Path log) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("did not finish in 30 s: " + command);
    }
    return process.exitValue();
  }

  static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -" + signal + " " + pid + " failed");
    }
  }

  static boolean canConnect(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Polls {@code condition} every 20 ms until it holds or {@code seconds} pass. */
  static boolean await(java.util.function.BooleanSupplier condition, double seconds) throws InterruptedException {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(20);
    }
    return condition.getAsBoolean();
  }

  /** The executable {@code command} on the PATH (or in /usr/sbin), or {@code null}. */
  static String which(String command) {
    String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin";
    for (String directory : path.split(":")) {
      if (!directory.isEmpty() && java.nio.file.Files.isExecutable(Path.of(directory, command))) {
        return Path.of(directory, command).toString();
      }
    }
    return null;
  }
}
