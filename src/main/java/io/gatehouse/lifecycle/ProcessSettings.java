package io.gatehouse.lifecycle;

import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.GatehouseConfig;
import java.util.ArrayList;
import java.util.List;

/** What a reload cannot change: the settings that belong to the process (admin, fleet, hand-off). */
final class ProcessSettings {
  private ProcessSettings() {}

  /**
   * The admin listener and the hand-off socket belong to the process, not to a generation: a reload
   * cannot move them, so it is refused and says what applies them (a takeover starts a process
   * with the new file), instead of answering success and leaving them as they were.
   */
  static void refuseChanges(GatehouseConfig running, GatehouseConfig next)
      throws ConfigException {
    List<ConfigProblem> problems = new ArrayList<>();
    String file = next.source() == null ? "" : next.source().toString();
    String how = " (expected: gatehouse run -c FILE --takeover applies it; a reload cannot)";
    if (!java.util.Objects.equals(running.admin(), next.admin())) {
      boolean sameBind = running.admin() != null && next.admin() != null
          && running.admin().bind().equals(next.admin().bind());
      problems.add(new ConfigProblem(file, 0, 0, sameBind ? "admin.token" : "admin",
          (sameBind ? "changed" : "changed from " + describe(running.admin()) + " to " + describe(next.admin())) + how));
    }
    if (!java.util.Objects.equals(running.fleet(), next.fleet())) {
      problems.add(new ConfigProblem(file, 0, 0, "fleet", "changed" + how));
    }
    if (!java.util.Objects.equals(running.handoff(), next.handoff())) {
      problems.add(new ConfigProblem(file, 0, 0, "handoff.socket",
          "changed from " + running.handoff().socket() + " to " + next.handoff().socket() + how));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  private static String describe(AdminConfig admin) {
    return admin == null ? "none" : "bind " + admin.bind();
  }
}
