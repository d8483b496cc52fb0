package io.gatehouse.config;

/** Builds config paths such as {@code clusters[0].endpoints[1].weight}. */
final class Paths {
  private Paths() {}

  static String child(String parent, String key) {
    return parent.isEmpty() ? key : parent + "." + key;
  }

  static String index(String parent, int i) {
    return parent + "[" + i + "]";
  }
}
