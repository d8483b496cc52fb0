package io.gatehouse.reverse;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathNormalizerTest {
  @ParameterizedTest
  @CsvSource({
    "/, /",
    "/a/b, /a/b",
    "/a/b/, /a/b/",
    "/static/../admin, /admin",
    "/static/%2e%2e/admin, /admin",
    "/static/%2E%2E/admin, /admin",
    "/a/./b, /a/b",
    "/a//b, /a/b",
    "/../../etc/passwd, /etc/passwd",
    "/a/b/.., /a/",
    "/a/b/., /a/b/",
    "/.., /",
    "/a%20b/c, /a%20b/c",
    "/v1.2/x, /v1.2/x",
    "/.well-known/x, /.well-known/x",
  })
  void removesDotSegments(String raw, String normalized) {
    assertThat(PathNormalizer.normalize(raw)).isEqualTo(normalized);
  }

  @ParameterizedTest
  @CsvSource({"/", "/a/b", "/a.b/c", "/x/.hidden"})
  void leavesNormalPathsAlone(String path) {
    assertThat(PathNormalizer.normalize(path)).isSameAs(path);
  }
}
