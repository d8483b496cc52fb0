package io.gatehouse.zerodowntime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Daemons the suite started but is not the parent of (nginx after a binary upgrade): by pid. */
final class Pids {
  private Pids() {}

  static boolean alive(long pid) {
    // a zombie (exited, not yet reaped by its parent) counts as gone
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return !stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return false;
    }
  }

  /** Reads a pid file; 0 when absent or empty. */
  static long read(Path pidFile) {
    try {
      String text = Files.readString(pidFile).trim();
      return text.isEmpty() ? 0 : Long.parseLong(text);
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** The direct children of {@code pid} (its workers). */
  static List<Long> children(long pid) {
    List<Long> children = new ArrayList<>();
    try {
      String text = Files.readString(Path.of("/proc", Long.toString(pid), "task", Long.toString(pid), "children"));
      for (String child : text.trim().split("\\s+")) {
        if (!child.isEmpty()) {
          children.add(Long.parseLong(child));
        }
      }
    } catch (IOException e) {
      // gone already
    }
    return children;
  }

  /** {@code kill -9} of {@code pid} and its children, the suite's own processes only. */
  static void killTree(long pid) {
    if (pid <= 0) {
      return;
    }
    List<Long> all = new ArrayList<>(children(pid));
    all.add(0, pid);
    for (long p : all) {
      if (alive(p)) {
        try {
          Processes.signal(p, "KILL");
        } catch (IOException e) {
          // exited meanwhile
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
