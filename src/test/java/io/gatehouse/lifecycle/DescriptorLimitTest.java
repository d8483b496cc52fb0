package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DescriptorLimitTest {
  @Test
  void aLimitWithRoomForTwoSocketsPerConnectionSaysNothing() {
    assertThat(DescriptorLimit.check(100_000, 262_144)).isNull();
    assertThat(DescriptorLimit.check(1_000, 2 * 1_000 + DescriptorLimit.OVERHEAD)).isNull();
    assertThat(DescriptorLimit.check(100_000, -1)).as("unknown limit").isNull();
  }

  @Test
  void aLowerLimitNamesWhatFitsAndWhatToChange() {
    assertThat(DescriptorLimit.check(100_000, 20_000))
        .contains("the descriptor limit (20000, ulimit -n / LimitNOFILE)")
        .contains("limits.maxConnections (100000) needs: about 200256")
        .contains("set limits.maxConnections to at most 9872");
  }
}
