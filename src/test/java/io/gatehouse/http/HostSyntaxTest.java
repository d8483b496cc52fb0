package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HostSyntaxTest {
  @ParameterizedTest
  @ValueSource(strings = {"a", "example.com", "example.com:8080", "127.0.0.1:80", "[::1]", "[::1]:443",
      "[2001:db8::7]:8443", "xn--bcher-kva.example", "a_b.example", "ex%41mple.com", "a:", "",
      "[v1.fe80::a+en1]", "sub!$&'()*+,;=.example"})
  void accepts(String host) {
    assertThat(HostSyntax.valid(host)).as(host).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"bad host", "user@example.com", "a\tb", "a\u0001b", "a/b", "a?b", "a#b",
      "example.com:80x", "example.com:-1", "[::1", "[zz::1]", "[::1]x", "[::1%eth0]", "[]", "ex%4mple",
      "a\\b", "a\"b", "a<b>", "example.com:80:81", "\u00e9xample.com", "[v.x]"})
  void refuses(String host) {
    assertThat(HostSyntax.valid(host)).as(host).isFalse();
  }
}
