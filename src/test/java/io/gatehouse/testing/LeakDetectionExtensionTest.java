package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.awaitility.Awaitility;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leak hook works: an unreleased buffer is reported (and then forgotten, so this class passes). */
class LeakDetectionExtensionTest {
  @Test
  void an_unreleased_buffer_is_reported() {
    leakOneBuffer();
    List<String> seen = new ArrayList<>();
    Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      seen.addAll(LeakDetectionExtension.collectLeaks());
      return !seen.isEmpty();
    });
    assertThat(seen).anySatisfy(report -> assertThat(report).contains("LEAK:"));
  }

  @Test
  void the_extension_runs_for_every_test_class_without_being_declared() {
    assertThat(LeakDetectionExtension.currentTestClass()).isEqualTo(LeakDetectionExtensionTest.class);
  }

  private static void leakOneBuffer() {
    ByteBuf leaked = ByteBufAllocator.DEFAULT.directBuffer(64);
    leaked.writeLong(42); // never released; unreachable once this method returns
  }
}
