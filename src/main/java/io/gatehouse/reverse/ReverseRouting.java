package io.gatehouse.reverse;

import java.util.Map;

/**
 * The reverse-proxy part of one config generation: each reverse listener's route table. Read once
 * per request through a supplier, so a reload applies to keep-alive connections at their next request.
 */
public record ReverseRouting(Map<String, RouteTable> tablesByListener) {
  public RouteTable table(String listener) {
    return tablesByListener.get(listener);
  }
}
