package io.gatehouse.reverse;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

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
    "/%61dmin, /admin",
    "/%7Euser/%5F%2D, /~user/_-",
    "/a%2Fb/../c, /c",
    "/a%2fb, /a%2fb",
    "/caf%C3%A9, /caf%C3%A9",
    "/a/%2E./b, /b",
  })
  void removesDotSegments(String raw, String normalized) {
    assertThat(PathNormalizer.normalize(raw)).isEqualTo(normalized);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/a%zz", "/a%4", "/a%", "/a%%41", "/a%00", "/%G1", "/a%\u0663\u0663"})
  void refusesMalformedEncodingsAndNul(String path) {
    assertThat(PathNormalizer.normalize(path)).isNull();
  }

  @ParameterizedTest
  @CsvSource({"/", "/a/b", "/a.b/c", "/x/.hidden"})
  void leavesNormalPathsAlone(String path) {
    assertThat(PathNormalizer.normalize(path)).isSameAs(path);
  }
}
