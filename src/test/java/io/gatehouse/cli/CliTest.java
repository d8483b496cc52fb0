package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's exit codes and messages, run in-process. */
class CliTest {
  @TempDir Path dir;

  private record Run(int exit, String out, String err) {}

  private static Run run(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int exit = Main.execute(args);
      return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void checkAcceptsTheExamples() {
    Run run = run("check", "-c", "examples/reverse.yaml");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("ok");
  }

  @Test
  void checkListsEveryProblemWithItsPosition() throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        listeners:
          - { name: web, bind: 127.0.0.1:8080, mode: reverse }
        routes:
          - { name: r, cluster: nowhere }
        clusters:
          - { name: c, balancer: fastest, endpoints: [ "127.0.0.1:1" ] }
        """);
    Run run = run("check", "-c", file.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains(file + ":4:").contains("routes[0].cluster").contains("nowhere");
    assertThat(run.err()).contains(file + ":6:").contains("clusters[0].balancer").contains("fastest");
    assertThat(run.err()).doesNotContain("Exception");
  }

  @Test
  void checkRefusesWhatRunRefusesWithPositions() throws Exception {
    io.gatehouse.testing.TestCerts good = io.gatehouse.testing.TestCerts.selfSigned(dir);
    Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    Files.writeString(dir.resolve("garbage.key"), "not a key\n");
    Files.writeString(dir.resolve("users.htpasswd"), "# users\nalice:$2y$10$abcdefghijklmnopqrstuu5Xz4C1lJQn3yZ1oZb9d1v9n0n0n0n0n0\nbob:plaintext\n");
    Path file = dir.resolve("ops.yaml");
    Files.writeString(file, """
        listeners:
          - name: a
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: garbage.pem, key: garbage.key } ] }
          - name: b
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: garbage.key } ] }
          - name: f
            bind: 127.0.0.1:0
            mode: forward
            forward: { auth: { users: users.htpasswd } }
        routes: [ { name: r, listeners: [a, b], cluster: c } ]
        clusters: [ { name: c, endpoints: [ "127.0.0.1:8080", "no-such-host.invalid:80" ] } ]
        accessLog: { path: missing-dir/access.log }
        """.formatted(good.certificate()));

    Run run = run("check", "-c", file.toString());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).doesNotContain("Exception:").doesNotContain("\tat ");
    assertThat(run.err()).containsPattern(java.util.regex.Pattern.quote(file.toString())
        + ":13:\\d+: listeners\\[2\\].forward.auth.users: .*users.htpasswd line 3: not a bcrypt htpasswd entry");
    // The start-up checks (access-log directory, TLS, DNS) run once the file itself is valid.
    Files.writeString(file, Files.readString(file)
        .replace("forward: { auth: { users: users.htpasswd } }", "forward: {}"));
    run = run("check", "-c", file.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).containsPattern(java.util.regex.Pattern.quote(file.toString())
        + ":5:\\d+: listeners\\[0\\].tls.certificates\\[0\\].cert: cannot read the certificate");
    assertThat(run.err()).containsPattern(java.util.regex.Pattern.quote(file.toString())
        + ":9:\\d+: listeners\\[1\\].tls.certificates\\[0\\].key: cannot use the key");
    assertThat(run.err()).containsPattern(java.util.regex.Pattern.quote(file.toString())
        + ":15:\\d+: clusters\\[0\\].endpoints\\[1\\]: host 'no-such-host.invalid' does not resolve");
    assertThat(run.err()).containsPattern(java.util.regex.Pattern.quote(file.toString())
        + ":16:\\d+: accessLog.path: directory .*missing-dir does not exist");
    assertThat(run.err()).doesNotContain("endpoints[0]");
  }

  @Test
  void checkOfAMissingFileFailsCleanly() {
    Run run = run("check", "-c", dir.resolve("absent.yaml").toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("absent.yaml").doesNotContain("Exception");
  }

  @Test
  void usageErrorsExit2() {
    assertThat(run("frobnicate").exit()).isEqualTo(2);
    assertThat(run("check").exit()).isEqualTo(2);
    assertThat(run().exit()).isEqualTo(2);
  }

  @Test
  void statusAndReloadTalkToARunningInstance() throws Exception {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, """
        admin: { bind: 127.0.0.1:0 }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: r, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "127.0.0.1:9" ] } ]
        """);
    io.gatehouse.lifecycle.GatehouseServer server =
        io.gatehouse.lifecycle.GatehouseServer.start(io.gatehouse.config.ConfigLoader.load(file));
    try {
      String admin = "127.0.0.1:" + server.adminAddress().getPort();
      assertThat(run("status", "--admin", admin).exit()).isZero();
      Run reload = run("reload", "--admin", admin);
      assertThat(reload.exit()).isZero();
      assertThat(reload.out()).contains("config generation 2");
      Files.writeString(file, "listeners: [ { name: web, bind: 127.0.0.1:0, mode: sideways } ]\n");
      Run refused = run("reload", "--admin", admin);
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("run.yaml:1:").contains("sideways");
      assertThat(server.generation()).isEqualTo(2);
    } finally {
      server.close();
    }
    assertThat(run("status", "--admin", "127.0.0.1:1").exit()).isEqualTo(1);
  }

  @Test
  void everySubcommandPrintsItsHelpAndExitsZero() {
    for (String command : new String[] {"run", "check", "reload", "status", "version"}) {
      for (String flag : new String[] {"--help", "-h"}) {
        Run run = run(command, flag);
        assertThat(run.exit()).as(command + " " + flag + ": " + run.err()).isZero();
        assertThat(run.out()).as(command + " " + flag).contains("Usage: gatehouse " + command);
      }
    }
    assertThat(run("--help").exit()).isZero();
  }

  @Test
  void versionNamesTransportAndTls() {
    Run run = run("version");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("gatehouse").contains("java ").contains("transport ").contains("tls ");
  }

  @Test
  void operatorCommandsDrainEnableWeightAndShowTheRunningInstance() throws Exception {
    try (io.gatehouse.testing.FakeUpstream a = io.gatehouse.testing.FakeUpstream.start("a");
        io.gatehouse.testing.FakeUpstream green = io.gatehouse.testing.FakeUpstream.start("green")) {
      Path file = dir.resolve("ops.yaml");
      Files.writeString(file, """
          admin: { bind: 127.0.0.1:0, token: t0ps3cret }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: app, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] } ]
          clusters: [ { name: blue, endpoints: [ "%s" ] }, { name: green, endpoints: [ "%s" ] } ]
          """.formatted(a.address(), green.address()));
      Path tokenFile = dir.resolve("token");
      Files.writeString(tokenFile, "t0ps3cret\n");
      io.gatehouse.lifecycle.GatehouseServer server =
          io.gatehouse.lifecycle.GatehouseServer.start(io.gatehouse.config.ConfigLoader.load(file));
      try {
        String adminAddress = "127.0.0.1:" + server.adminAddress().getPort();
        String[] admin = {"--admin", adminAddress, "--token-file", tokenFile.toString()};

        Run status = run(with(admin, "status"));
        assertThat(status.exit()).as(status.err()).isZero();
        assertThat(status.out()).contains("ROUTE").contains("blue=100 green=0").contains("CLUSTER")
            .contains(a.address()).contains("active").contains("P99");

        Run drain = run(with(admin, "drain", "blue", a.address(), "--wait", "5s"));
        assertThat(drain.exit()).as(drain.err()).isZero();
        assertThat(drain.out()).contains("draining");
        assertThat(drain.err()).contains("warning").contains("no active endpoint");
        assertThat(run(with(admin, "status")).out()).contains("draining");
        assertThat(run(with(admin, "disable", "blue", a.address())).out()).contains("disabled");
        assertThat(run(with(admin, "enable", "blue", a.address())).out()).contains("active");

        Run weights = run(with(admin, "weights", "app", "blue=90", "green=10"));
        assertThat(weights.exit()).as(weights.err()).isZero();
        assertThat(run(with(admin, "status")).out()).contains("blue=90 green=10").contains("(override)");

        assertThat(run(with(admin, "weights", "app", "blue=x")).exit()).as("usage error").isEqualTo(2);
        Run unknownRoute = run(with(admin, "weights", "nope", "blue=1"));
        assertThat(unknownRoute.exit()).isEqualTo(1);
        assertThat(unknownRoute.err()).contains("404").contains("nope");
        Run unknownEndpoint = run(with(admin, "drain", "blue", "10.0.0.1:1"));
        assertThat(unknownEndpoint.exit()).isEqualTo(1);
        assertThat(unknownEndpoint.err()).contains("10.0.0.1:1");

        Run deploy = run(with(admin, "deploy", "app", "--to", "green", "--steps", "50,100", "--interval", "1m"));
        assertThat(deploy.exit()).as(deploy.err()).isZero();
        assertThat(deploy.out()).contains("progressing at 50%");
        String id = deploy.out().substring("deployment ".length(), deploy.out().indexOf(':'));
        assertThat(run(with(admin, "status")).out()).contains("blue=5000 green=5000")
            .containsPattern("DEPLOYMENT +ROUTE +TO +STATE +STEP +WEIGHTS +LAST VERDICT")
            .containsPattern(java.util.regex.Pattern.quote(id) + " +app +green +progressing +1/2 \\(50%\\) +blue=5000 green=5000 +-");
        Run again = run(with(admin, "deploy", "app", "--to", "green"));
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("409");
        Run rollback = run(with(admin, "rollback", id));
        assertThat(rollback.exit()).as(rollback.err()).isZero();
        assertThat(rollback.out()).contains("rolled_back");
        assertThat(run(with(admin, "status")).out()).contains("blue=90 green=10")
            .containsPattern(java.util.regex.Pattern.quote(id) + " +app +green +rolled_back +1/2");

        Run config = run(with(admin, "config"));
        assertThat(config.exit()).isZero();
        assertThat(config.out()).contains("<redacted>").contains("\"generation\"").doesNotContain("t0ps3cret");

        Run wrongToken = run("status", "--admin", adminAddress, "--token", "wrong");
        assertThat(wrongToken.exit()).isEqualTo(1);
        assertThat(wrongToken.err()).contains("401");
      } finally {
        server.close();
      }
    }
  }

  private static String[] with(String[] admin, String... args) {
    String[] all = new String[args.length + admin.length];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(admin, 0, all, args.length, admin.length);
    return all;
  }
}
