package io.gatehouse.reverse;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RouteTableTest {
  private static Route route(String name, String host, String prefix) {
    return new Route(name, host, prefix, List.of(), 0, null, 0, RetryPolicy.DEFAULT, null, null, null);
  }

  private static String match(RouteTable table, String host, String path) {
    Route route = table.match(host, path);
    return route == null ? null : route.name();
  }

  private final RouteTable table = new RouteTable(List.of(
      route("any-root", null, "/"),
      route("any-api", null, "/api/"),
      route("exact", "shop.example.com", "/"),
      route("exact-cart", "shop.example.com", "/cart/"),
      route("wild", "*.example.com", "/"),
      route("wild-deep", "*.eu.example.com", "/"),
      route("wild-deep-api", "*.eu.example.com", "/api/")));

  @Test
  void exact_host_wins_then_longest_prefix() {
    assertThat(match(table, "shop.example.com", "/")).isEqualTo("exact");
    assertThat(match(table, "shop.example.com", "/cart/items")).isEqualTo("exact-cart");
    assertThat(match(table, "shop.example.com", "/cart")).isEqualTo("exact");
    assertThat(match(table, "SHOP.Example.COM", "/cart/")).isEqualTo("exact-cart");
  }

  @Test
  void longest_wildcard_suffix_wins() {
    assertThat(match(table, "a.example.com", "/")).isEqualTo("wild");
    assertThat(match(table, "x.y.example.com", "/")).isEqualTo("wild");
    assertThat(match(table, "paris.eu.example.com", "/")).isEqualTo("wild-deep");
    assertThat(match(table, "paris.eu.example.com", "/api/v1")).isEqualTo("wild-deep-api");
  }

  @Test
  void wildcard_needs_a_label_before_the_suffix() {
    assertThat(match(table, "example.com", "/")).isEqualTo("any-root");
    assertThat(match(table, "badexample.com", "/")).isEqualTo("any-root");
    assertThat(match(table, "eu.example.com", "/")).as("*.eu.example.com needs a sub-domain").isEqualTo("wild");
  }

  @Test
  void host_routes_without_a_matching_prefix_fall_back_to_any_host() {
    RouteTable narrow = new RouteTable(List.of(route("exact-cart", "shop.test", "/cart/"), route("any", null, "/")));
    assertThat(match(narrow, "shop.test", "/other")).isEqualTo("any");
  }

  @Test
  void no_host_and_no_match() {
    assertThat(match(table, null, "/api/x")).isEqualTo("any-api");
    RouteTable empty = new RouteTable(List.of(route("only", "a.test", "/x/")));
    assertThat(empty.match("b.test", "/x/")).isNull();
    assertThat(empty.match("a.test", "/y")).isNull();
  }
}
