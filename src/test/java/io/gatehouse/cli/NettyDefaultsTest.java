package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The Netty settings the server starts with, and that a -D on the command line still wins. */
class NettyDefaultsTest {

  @Test
  void leakDetectionOffRecyclerBatchOf256AndNoPinnedMemoryCountByDefault() {
    Properties p = new Properties();
    Main.nettyDefaults(p);
    assertThat(p.getProperty("io.netty.leakDetection.level")).isEqualTo("disabled");
    assertThat(p.getProperty("io.netty.recycler.chunkSize")).isEqualTo("256");
    assertThat(p.getProperty("io.netty.trackPinnedMemory")).isEqualTo("false");
  }

  @Test
  void valuesGivenOnTheCommandLineAreKept() {
    Properties p = new Properties();
    p.setProperty("io.netty.leakDetection.level", "paranoid");
    p.setProperty("io.netty.recycler.chunkSize", "32");
    p.setProperty("io.netty.trackPinnedMemory", "true");
    Main.nettyDefaults(p);
    assertThat(p.getProperty("io.netty.leakDetection.level")).isEqualTo("paranoid");
    assertThat(p.getProperty("io.netty.recycler.chunkSize")).isEqualTo("32");
    assertThat(p.getProperty("io.netty.trackPinnedMemory")).isEqualTo("true");
  }
}
