package io.gatehouse.forward;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Addresses a forward proxy must not reach on a client's behalf unless told to (the SSRF guard):
 * loopback, RFC 1918 private, link-local, unspecified, carrier-grade NAT (RFC 6598), IPv6 unique
 * local (RFC 4193), and IPv4-mapped forms of all of these. Checked on resolved addresses, so a
 * public name pointing inside is caught too.
 */
final class PrivateAddresses {
  private PrivateAddresses() {}

  static boolean isPrivate(InetAddress address) {
    if (address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
        || address.isSiteLocalAddress() || address.isMulticastAddress()) {
      return true;
    }
    byte[] a = address.getAddress();
    if (address instanceof Inet4Address) {
      return isPrivateV4(a, 0);
    }
    if (address instanceof Inet6Address) {
      if ((a[0] & 0xfe) == 0xfc) {
        return true; // fc00::/7 unique local
      }
      boolean mapped = true;
      for (int i = 0; i < 10; i++) {
        mapped &= a[i] == 0;
      }
      if (mapped && a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
        return isPrivateV4(a, 12);
      }
    }
    return false;
  }

  private static boolean isPrivateV4(byte[] a, int o) {
    int b0 = a[o] & 0xff;
    int b1 = a[o + 1] & 0xff;
    return b0 == 0 || b0 == 10 || b0 == 127
        || (b0 == 100 && b1 >= 64 && b1 < 128)
        || (b0 == 169 && b1 == 254)
        || (b0 == 172 && b1 >= 16 && b1 < 32)
        || (b0 == 192 && b1 == 168);
  }
}
