package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./gatehouse} launcher, run by bash from a copy of the repository layout. {@code mvn}
 * and {@code java} are stand-in scripts on PATH that record how they were called, so the test
 * checks the launcher's decisions (rebuild or not, which jar) without a real build.
 */
@Timeout(30)
class LauncherTest {
  @TempDir Path dir;
  private Path repo;
  private Path jar;
  private Path calls;

  @BeforeEach
  void layout() throws Exception {
    repo = Files.createDirectories(dir.resolve("repo"));
    Files.copy(Path.of("gatehouse"), repo.resolve("gatehouse"));
    Files.writeString(repo.resolve("pom.xml"), "<project/>");
    Files.createDirectories(repo.resolve("src/main/java"));
    Files.writeString(repo.resolve("src/main/java/A.java"), "class A {}");
    jar = Files.createDirectories(repo.resolve("target")).resolve("gatehouse.jar");
    Files.writeString(jar, "jar");
    calls = dir.resolve("calls.txt");
    Path bin = Files.createDirectories(dir.resolve("bin"));
    script(bin.resolve("mvn"), "echo \"mvn $*\" >> '" + calls + "'; touch target/gatehouse.jar");
    script(bin.resolve("java"), "echo \"java $*\" >> '" + calls + "'");
    Path onPath = Files.createDirectories(dir.resolve("onpath"));
    Files.createSymbolicLink(onPath.resolve("gatehouse"), repo.resolve("gatehouse"));
  }

  @Test
  void aSymlinkInPathRunsTheRepositorysJarWithoutRebuildingAnUpToDateJar() throws Exception {
    ageSources(3600);

    int exit = launch();

    assertThat(exit).isZero();
    assertThat(Files.readAllLines(calls)).containsExactly(
        "java -XX:+UseSerialGC -Xms64m -Xmn16m -Xmx1g -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -Dio.netty.allocator.maxOrder=7 -jar " + repo.toRealPath().resolve("target/gatehouse.jar") + " version");
  }

  @Test
  void sourcesNewerThanTheJarAreRebuiltFirst() throws Exception {
    ageSources(7200);
    age(jar, 3600);
    age(repo.resolve("src/main/java/A.java"), 0);

    int exit = launch();

    assertThat(exit).isZero();
    List<String> lines = Files.readAllLines(calls);
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("mvn ").contains("package");
    assertThat(lines.get(1)).startsWith("java ").endsWith("gatehouse.jar version");
  }

  @Test
  void aChangedPomAloneAlsoRebuilds() throws Exception {
    ageSources(7200);
    age(jar, 3600);
    age(repo.resolve("pom.xml"), 0);

    assertThat(launch()).isZero();
    assertThat(Files.readAllLines(calls).get(0)).startsWith("mvn ");
  }

  @Test
  void gatehouseJarRunsThatJarAsItIsEvenWithNewerSources() throws Exception {
    ageSources(0);
    Path other = Files.writeString(dir.resolve("other.jar"), "jar");
    age(other, 3600);

    assertThat(launch(Map.of("GATEHOUSE_JAR", other.toString()))).isZero();
    assertThat(Files.readAllLines(calls)).singleElement().asString()
        .startsWith("java ").endsWith(" -jar " + other + " version");
  }

  @Test
  void javaHomeChoosesTheJvmAndItsVersionItsFlags() throws Exception {
    ageSources(3600);
    Path jdk = Files.createDirectories(dir.resolve("jdk-25/bin"));
    script(jdk.resolve("java"), "echo \"jdk25-java $*\" >> '" + calls + "'");
    Files.writeString(dir.resolve("jdk-25/release"), "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"25.0.3\"\n");

    assertThat(launch(Map.of("JAVA_HOME", dir.resolve("jdk-25").toString()))).isZero();
    // JDK 25: the native heap is trimmed, and Netty may use sun.misc.Unsafe (it would not by default).
    assertThat(Files.readAllLines(calls)).singleElement().asString()
        .startsWith("jdk25-java -XX:+UseSerialGC ")
        .contains(" -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000 ")
        .contains(" --sun-misc-unsafe-memory-access=allow ")
        .endsWith(" -jar " + repo.toRealPath().resolve("target/gatehouse.jar") + " version");
  }

  /**
   * Class data sharing for {@code run}: the first run archives its classes at exit beside the jar
   * (named for the JVM's version), later runs map that archive, a rebuilt jar makes a new one, and
   * GATEHOUSE_CDS=0 or GATEHOUSE_CDS_DIR change where or whether. Other commands never touch it.
   */
  @Test
  void runArchivesItsClassesOnceAndMapsThemAfterwards() throws Exception {
    ageSources(7200);
    age(jar, 3600);
    Path jdk = Files.createDirectories(dir.resolve("jdk-17/bin"));
    script(jdk.resolve("java"), "echo \"java $*\" >> '" + calls + "'");
    Files.writeString(dir.resolve("jdk-17/release"), "JAVA_VERSION=\"17.0.15\"\n");
    Map<String, String> env = Map.of("JAVA_HOME", dir.resolve("jdk-17").toString());
    Path archive = repo.toRealPath().resolve("target/gatehouse-jdk17.0.15.jsa");

    assertThat(launch(env, "run")).isZero();
    assertThat(lastCall()).contains(" -XX:ArchiveClassesAtExit=" + archive + " -Xlog:cds*=off -jar ");

    Files.writeString(archive, "archive"); // what the JVM writes at exit
    assertThat(launch(env, "run")).isZero();
    assertThat(lastCall()).contains(" -XX:SharedArchiveFile=" + archive + " -Xlog:cds*=off -jar ");

    assertThat(launch(env, "version")).isZero();
    assertThat(lastCall()).doesNotContain("-XX:SharedArchiveFile").doesNotContain("-XX:ArchiveClassesAtExit");

    Files.write(archive, new byte[4096]); // a run killed while archiving: the header never written
    assertThat(launch(env, "run")).isZero();
    assertThat(lastCall()).contains(" -XX:ArchiveClassesAtExit=" + archive + " ");

    Files.writeString(archive, "archive");
    age(archive, 7200); // the jar was rebuilt after it
    assertThat(launch(env, "run")).isZero();
    assertThat(lastCall()).contains(" -XX:ArchiveClassesAtExit=" + archive + " ");

    Map<String, String> off = new java.util.HashMap<>(env);
    off.put("GATEHOUSE_CDS", "0");
    assertThat(launch(off, "run")).isZero();
    assertThat(lastCall()).doesNotContain("-XX:SharedArchiveFile").doesNotContain("-XX:ArchiveClassesAtExit");

    Path state = Files.createDirectories(dir.resolve("state"));
    Map<String, String> elsewhere = new java.util.HashMap<>(env);
    elsewhere.put("GATEHOUSE_CDS_DIR", state.toString());
    assertThat(launch(elsewhere, "run")).isZero();
    assertThat(lastCall()).contains(" -XX:ArchiveClassesAtExit=" + state.resolve("gatehouse-jdk17.0.15.jsa") + " ");
  }

  private String lastCall() throws Exception {
    List<String> lines = Files.readAllLines(calls);
    return lines.get(lines.size() - 1);
  }

  private int launch() throws Exception {
    return launch(Map.of());
  }

  private int launch(Map<String, String> env) throws Exception {
    return launch(env, "version");
  }

  private int launch(Map<String, String> env, String command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(List.of(dir.resolve("onpath/gatehouse").toString(), command))
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("out.txt").toFile());
    pb.environment().put("PATH", dir.resolve("bin") + ":" + System.getenv("PATH"));
    pb.environment().remove("GATEHOUSE_JAVA_OPTS");
    pb.environment().remove("GATEHOUSE_JAR");
    pb.environment().remove("JAVA_HOME");
    pb.environment().remove("GATEHOUSE_CDS");
    pb.environment().remove("GATEHOUSE_CDS_DIR");
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  private void ageSources(long seconds) throws Exception {
    try (var files = Files.walk(repo.resolve("src"))) {
      for (Path p : (Iterable<Path>) files::iterator) {
        age(p, seconds);
      }
    }
    age(repo.resolve("pom.xml"), seconds);
  }

  private static void age(Path file, long seconds) throws Exception {
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(seconds)));
  }

  private static void script(Path file, String body) throws Exception {
    Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
