package io.gatehouse.reverse;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The routes of one listener, indexed for matching. The most specific route wins: an exact host
 * beats a {@code *.suffix} (longer suffix first), which beats a route without host; among routes of
 * the same host, the longest path prefix wins. Immutable.
 */
public final class RouteTable {
  private static final Comparator<Route> LONGEST_PREFIX_FIRST =
      Comparator.comparingInt((Route r) -> r.pathPrefix().length()).reversed();

  private final Map<String, List<Route>> exact = new HashMap<>();
  private final List<Map.Entry<String, List<Route>>> wildcard = new ArrayList<>();
  private final List<Route> anyHost = new ArrayList<>();

  public RouteTable(List<Route> routes) {
    Map<String, List<Route>> suffixes = new HashMap<>();
    for (Route route : routes) {
      String host = route.host();
      if (host == null) {
        anyHost.add(route);
      } else if (host.startsWith("*.")) {
        suffixes.computeIfAbsent(host.substring(1), k -> new ArrayList<>()).add(route);
      } else {
        exact.computeIfAbsent(host, k -> new ArrayList<>()).add(route);
      }
    }
    exact.values().forEach(list -> list.sort(LONGEST_PREFIX_FIRST));
    suffixes.values().forEach(list -> list.sort(LONGEST_PREFIX_FIRST));
    anyHost.sort(LONGEST_PREFIX_FIRST);
    wildcard.addAll(suffixes.entrySet());
    wildcard.sort(Comparator.comparingInt((Map.Entry<String, List<Route>> e) -> e.getKey().length()).reversed());
  }

  /**
   * @param host the request's host without port, any case; may be null
   * @param path the request path (no query)
   * @return the matching route, or null
   */
  public Route match(String host, String path) {
    if (host != null) {
      host = host.toLowerCase(Locale.ROOT);
      Route route = firstPrefix(exact.get(host), path);
      if (route != null) {
        return route;
      }
      for (Map.Entry<String, List<Route>> entry : wildcard) {
        // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com"
        if (host.endsWith(entry.getKey()) && host.length() > entry.getKey().length()) {
          route = firstPrefix(entry.getValue(), path);
          if (route != null) {
            return route;
          }
        }
      }
    }
    return firstPrefix(anyHost, path);
  }

  private static Route firstPrefix(List<Route> routes, String path) {
    if (routes == null) {
      return null;
    }
    for (Route route : routes) {
      if (path.startsWith(route.pathPrefix())) {
        return route;
      }
    }
    return null;
  }
}
