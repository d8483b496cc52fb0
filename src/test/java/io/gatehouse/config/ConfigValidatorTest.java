package io.gatehouse.config;

import static io.gatehouse.config.ConfigLoaderTest.problems;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One test per cross-section check; each file is valid except for the one thing under test. */
class ConfigValidatorTest {
  private static final String CLUSTERS = """
      clusters:
        - { name: app, endpoints: ["127.0.0.1:9001"] }
      """;

  @Test
  void duplicateListenerName() {
    assertThat(problems("""
        listeners:
          - { name: a, bind: "127.0.0.1:1", mode: forward }
          - { name: a, bind: "127.0.0.1:2", mode: forward }
        """)).containsExactly("test.yaml:3:13: listeners[1].name: duplicate name 'a' (already used by listeners[0])");
  }

  @Test
  void duplicateRouteAndClusterNames() {
    assertThat(problems("""
        listeners: [ { name: web, bind: "127.0.0.1:0", mode: reverse } ]
        routes:
          - { name: r, match: { pathPrefix: /a }, cluster: app }
          - { name: r, match: { pathPrefix: /b }, cluster: app }
        clusters:
          - { name: app, endpoints: ["127.0.0.1:9001"] }
          - { name: app, endpoints: ["127.0.0.1:9002"] }
        """)).containsExactly(
            "test.yaml:4:13: routes[1].name: duplicate name 'r' (already used by routes[0])",
            "test.yaml:7:13: clusters[1].name: duplicate name 'app' (already used by clusters[0])");
  }

  @Test
  void twoListenersOnOneAddress() {
    assertThat(problems("""
        listeners:
          - { name: a, bind: "0.0.0.0:8080", mode: reverse }
          - { name: b, bind: "127.0.0.1:8080", mode: reverse }
          - { name: c, bind: "127.0.0.1:0", mode: reverse }
          - { name: d, bind: "127.0.0.1:0", mode: reverse }
        """)).containsExactly(
            "test.yaml:3:22: listeners[1].bind: 127.0.0.1:8080 is already used by listeners[0] (expected: a distinct address)");
  }

  @Test
  void listenerOnTheAdminAddress() {
    assertThat(problems("""
        admin: { bind: "127.0.0.1:9000" }
        listeners: [ { name: a, bind: "127.0.0.1:9000", mode: forward } ]
        """)).containsExactly(
            "test.yaml:2:31: listeners[0].bind: 127.0.0.1:9000 is already used by admin.bind (expected: a distinct address)");
  }

  @Test
  void routeToAMissingCluster() {
    assertThat(problems("""
        listeners: [ { name: web, bind: "127.0.0.1:0", mode: reverse } ]
        routes:
          - { name: a, cluster: nope }
          - { name: b, match: { pathPrefix: /b }, backends: [ { cluster: app }, { cluster: gone } ] }
        """ + CLUSTERS)).containsExactly(
            "test.yaml:3:25: routes[0].cluster: unknown cluster 'nope' (expected one of: app)",
            "test.yaml:4:84: routes[1].backends[1].cluster: unknown cluster 'gone' (expected one of: app)");
  }

  @Test
  void routeOnAForwardOrUnknownListener() {
    assertThat(problems("""
        listeners:
          - { name: web, bind: "127.0.0.1:0", mode: reverse }
          - { name: fwd, bind: "127.0.0.1:0", mode: forward }
        routes:
          - { name: a, listeners: [web, fwd, nope], cluster: app }
        """ + CLUSTERS)).containsExactly(
            "test.yaml:5:33: routes[0].listeners[1]: listener 'fwd' has mode forward (expected: a reverse listener)",
            "test.yaml:5:38: routes[0].listeners[2]: unknown listener 'nope' (expected one of: fwd, web)");
  }

  @Test
  void routeWithoutAnyReverseListener() {
    assertThat(problems("""
        listeners: [ { name: fwd, bind: "127.0.0.1:0", mode: forward } ]
        routes: [ { name: a, cluster: app } ]
        """ + CLUSTERS)).containsExactly(
            "test.yaml:2:11: routes[0]: no reverse listener to serve this route (expected: a listener with mode: reverse)");
  }

  @Test
  void forwardBlockOnAReverseListener() {
    assertThat(problems("""
        listeners: [ { name: web, bind: "127.0.0.1:0", mode: reverse, forward: { anonymize: true } } ]
        """)).containsExactly(
            "test.yaml:1:72: listeners[0].forward: only allowed on forward listeners (this one has mode: reverse)");
  }

  @Test
  void routeWithTheSameMatchAsAnEarlierOne() {
    assertThat(problems("""
        listeners: [ { name: web, bind: "127.0.0.1:0", mode: reverse } ]
        routes:
          - { name: a, match: { host: Example.com }, cluster: app }
          - { name: b, match: { host: example.com, pathPrefix: / }, cluster: app }
        """ + CLUSTERS)).containsExactly(
            "test.yaml:4:5: routes[1]: same match as routes[0] on the same listener (expected: a distinct host or pathPrefix)");
  }

  @Test
  void weightsAndEndpoints() {
    assertThat(problems("""
        listeners: [ { name: web, bind: "127.0.0.1:0", mode: reverse } ]
        routes: [ { name: a, backends: [ { cluster: app, weight: 0 } ] } ]
        clusters:
          - { name: app, endpoints: ["127.0.0.1:9001", { address: "127.0.0.1:9001", weight: 2 }] }
        """)).containsExactly(
            "test.yaml:2:32: routes[0].backends: every weight is 0 (expected: at least one weight > 0)",
            "test.yaml:4:48: clusters[0].endpoints[1]: duplicate endpoint 127.0.0.1:9001 (expected: each address once per cluster)");
  }
}
