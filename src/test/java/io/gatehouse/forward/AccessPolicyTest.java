package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.AccessRuleConfig;
import io.gatehouse.config.Decision;
import io.gatehouse.config.ForwardConfig;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AccessPolicyTest {
  private static final AccessPolicy POLICY = AccessPolicy.compile(new ForwardConfig(false, null, List.of(443), true,
      List.of(
          rule("ads", Decision.DENY, List.of(), List.of("*.ads.example", "tracker.example"), List.of(), List.of(), List.of()),
          rule("no-post", Decision.DENY, List.of(), List.of(), List.of(), List.of("POST"), List.of()),
          rule("admins-anywhere", Decision.ALLOW, List.of(), List.of(), List.of(), List.of(), List.of("alice")),
          rule("intranet", Decision.ALLOW, List.of("10.0.0.0/8", "fd00::/8"), List.of("intranet.corp"), List.of(80, 8080),
              List.of(), List.of()),
          rule("lan", Decision.ALLOW, List.of("192.168.1.0/24", "::1/128"), List.of(), List.of(), List.of(), List.of())),
      Decision.DENY, null));

  private static AccessRuleConfig rule(String name, Decision d, List<String> clients, List<String> hosts,
      List<Integer> ports, List<String> methods, List<String> users) {
    return new AccessRuleConfig(name, d, clients, hosts, ports, methods, users);
  }

  @ParameterizedTest(name = "{0} {1}:{2} {3} user={4} -> {5} {6}")
  @CsvSource(nullValues = "-", value = {
      "192.168.1.5,   news.example,      80,   GET,     -,     allow, lan",
      "192.168.2.5,   news.example,      80,   GET,     -,     deny,  default",
      "192.168.1.5,   x.ads.example,     80,   GET,     -,     deny,  ads",
      "192.168.1.5,   a.b.ads.example,   443,  CONNECT, -,     deny,  ads",
      "192.168.1.5,   ads.example,       80,   GET,     -,     allow, lan",
      "192.168.1.5,   tracker.example,   80,   GET,     -,     deny,  ads",
      "192.168.1.5,   nottracker.example,80,   GET,     -,     allow, lan",
      "192.168.1.5,   news.example,      80,   POST,    -,     deny,  no-post",
      "8.8.8.8,       news.example,      80,   GET,     alice, allow, admins-anywhere",
      "8.8.8.8,       news.example,      80,   GET,     bob,   deny,  default",
      "10.1.2.3,      intranet.corp,     8080, GET,     -,     allow, intranet",
      "10.1.2.3,      intranet.corp,     443,  CONNECT, -,     deny,  default",
      "11.1.2.3,      intranet.corp,     80,   GET,     -,     deny,  default",
      "fd00::7,       intranet.corp,     80,   GET,     -,     allow, intranet",
      "::1,           news.example,      80,   GET,     -,     allow, lan",
      "::ffff:192.168.1.9, news.example, 80,   GET,     -,     allow, lan",
  })
  void firstMatchingRuleDecides(String client, String host, int port, String method, String user,
      String verdict, String rule) throws Exception {
    AccessDecision d = POLICY.decide(new AccessPolicy.Request(InetAddress.getByName(client), host, port, method, user));
    assertThat(d.rule()).isEqualTo(rule);
    assertThat(d).isInstanceOf(verdict.equals("allow") ? AccessDecision.Allow.class : AccessDecision.Deny.class);
  }

  @ParameterizedTest
  @CsvSource({
      "127.0.0.1, true", "10.9.8.7, true", "172.16.0.1, true", "172.32.0.1, false", "192.168.0.1, true",
      "169.254.169.254, true", "0.0.0.0, true", "100.64.0.1, true", "8.8.8.8, false", "::1, true", "::, true",
      "fe80::1, true", "fd12::1, true", "2001:db8::1, false", "::ffff:127.0.0.1, true", "::ffff:8.8.8.8, false"})
  void privateAddresses(String address, boolean isPrivate) throws Exception {
    assertThat(PrivateAddresses.isPrivate(InetAddress.getByName(address))).isEqualTo(isPrivate);
  }

  @ParameterizedTest
  @CsvSource(nullValues = "-", value = {
      "http://Example.COM/a?b=c,        example.com, 80,   /a?b=c",
      "http://u:p@example.com:8080,     example.com, 8080, /",
      "http://example.com.?q,           example.com, 80,   /?q",
      "http://[::1]:81/x#frag,          ::1,         81,   /x",
      "HTTP://example.com/,             example.com, 80,   /"})
  void absoluteTargets(String uri, String host, int port, String originForm) {
    ForwardTarget t = ForwardTarget.absolute(uri, false).target();
    assertThat(t).isEqualTo(new ForwardTarget(host, port, originForm));
  }

  @ParameterizedTest
  @CsvSource({
      "/path, ORIGIN_FORM", "*, ORIGIN_FORM", "ftp://example.com/, UNSUPPORTED_SCHEME",
      "https://example.com/, UNSUPPORTED_SCHEME", "http://exa mple/, BAD_AUTHORITY", "http://:80/, BAD_AUTHORITY",
      "http://example.com:70000/, BAD_AUTHORITY", "http://[zz]/, BAD_AUTHORITY", "example.com, BAD_AUTHORITY"})
  void badAbsoluteTargets(String uri, ForwardTarget.Problem problem) {
    assertThat(ForwardTarget.absolute(uri, false).problem()).isEqualTo(problem);
  }

  @ParameterizedTest
  @CsvSource({"example.com:443, true", "[2001:db8::1]:443, true", "example.com, false", "example.com:, false",
      "example.com:x, false", ":443, false", "a/b:443, false"})
  void connectTargets(String authority, boolean ok) {
    assertThat(ForwardTarget.connect(authority).target() != null).isEqualTo(ok);
  }
}
