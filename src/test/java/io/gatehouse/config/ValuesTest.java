package io.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValuesTest {
  private final Problems problems = new Problems("t");

  private static YamlNode scalar(String text) {
    return new YamlNode.Scalar(text, new YamlNode.Pos(1, 1));
  }

  @ParameterizedTest
  @CsvSource({"250ms, PT0.25S", "10s, PT10S", "1.5s, PT1.5S", "5m, PT5M", "1h, PT1H", "0.5ms, PT0.0005S"})
  void parsesDurations(String text, String expected) {
    assertThat(Values.duration(scalar(text), "d", problems)).isEqualTo(Duration.parse(expected));
    assertThat(problems.isEmpty()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"10", "5x", "1d", "-1s", "0s", "s", "1.s", "10 s"})
  void rejectsBadDurations(String text) {
    assertThat(Values.duration(scalar(text), "d", problems)).isNull();
    assertThat(problems.sorted()).singleElement().asString()
        .isEqualTo("t:1:1: d: '" + text + "' (expected: " + Values.DURATION_EXPECTED + ", > 0)");
  }

  @ParameterizedTest
  @CsvSource({"512, 512", "512B, 512", "512KiB, 524288", "10MiB, 10485760", "1GiB, 1073741824"})
  void parsesSizes(String text, long expected) {
    assertThat(Values.size(scalar(text), "s", problems, 0, Long.MAX_VALUE)).isEqualTo(expected);
    assertThat(problems.isEmpty()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"10MB", "1.5MiB", "KiB", "-1", "1 KiB", "99999999999GiB"})
  void rejectsBadSizes(String text) {
    assertThat(Values.size(scalar(text), "s", problems, 0, Long.MAX_VALUE)).isNull();
    assertThat(problems.sorted()).singleElement().asString().contains("'" + text + "' (expected: " + Values.SIZE_EXPECTED);
  }

  @org.junit.jupiter.api.Test
  void sizeOutOfRangeNamesTheRange() {
    assertThat(Values.size(scalar("2GiB"), "s", problems, 1024, Integer.MAX_VALUE)).isNull();
    assertThat(problems.sorted()).singleElement().asString()
        .isEqualTo("t:1:1: s: 2147483648 (expected: 1024..2147483647)");
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.0/8", "127.0.0.1", "::1/128", "fd00::/8", "::ffff:10.0.0.1", "0.0.0.0/0"})
  void acceptsCidrs(String text) {
    assertThat(Addresses.cidrProblem(text)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0/33", "::1/129", "256.0.0.1", "10.0.0", "example.com", "fd00::/x", "1:2:3"})
  void rejectsBadCidrs(String text) {
    assertThat(Addresses.cidrProblem(text)).isNotNull();
  }
}
