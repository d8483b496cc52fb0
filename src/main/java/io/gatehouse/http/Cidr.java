package io.gatehouse.http;

import io.netty.util.NetUtil;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/** An IPv4 or IPv6 block; a v4 client seen as an IPv4-mapped v6 address matches v4 blocks. */
public record Cidr(byte[] network, int bits) {

  /** Parses {@code 10.0.0.0/8}, {@code ::1/128} or a single address (validated by the config). */
  public static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String ip = slash < 0 ? text : text.substring(0, slash);
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(ip);
    if (bytes == null) {
      throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block");
    }
    int bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(text.substring(slash + 1));
    if (bits < 0 || bits > bytes.length * 8) {
      throw new IllegalArgumentException("bad prefix length in '" + text + "'");
    }
    return new Cidr(bytes, bits);
  }

  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (address instanceof Inet6Address && network.length == 4 && isMappedV4(a)) {
      a = java.util.Arrays.copyOfRange(a, 12, 16);
    } else if (address instanceof Inet4Address && network.length == 16) {
      return false;
    }
    if (a.length != network.length) {
      return false;
    }
    int full = bits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = bits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (network[full] & mask);
  }

  private static boolean isMappedV4(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }
}
