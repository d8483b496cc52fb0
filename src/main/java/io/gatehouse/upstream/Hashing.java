package io.gatehouse.upstream;

/**
 * Stable 64-bit string hash (FNV-1a then MurmurHash3's finaliser). Stable across JVMs and
 * restarts, unlike {@code String.hashCode} spreading, so a key maps to the same endpoint on every
 * Gatehouse instance behind the same L4 balancer.
 */
public final class Hashing {
  private Hashing() {}

  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return fmix64(h);
  }

  static long fmix64(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
