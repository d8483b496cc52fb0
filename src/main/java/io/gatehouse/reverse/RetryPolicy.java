package io.gatehouse.reverse;

import io.gatehouse.config.RetryConfig;
import java.util.HashSet;
import java.util.Set;

/**
 * A route's retry conditions, compiled once per generation from {@link RetryConfig} so the request
 * path tests booleans instead of searching strings.
 *
 * @param attempts every try including the first; 1 = no retry
 * @param statuses response codes that are retried (bodiless requests only)
 */
public record RetryPolicy(
    int attempts, boolean onConnectFailure, boolean onReset, boolean onTimeout, boolean on5xx, Set<Integer> statuses) {

  public static final RetryPolicy DEFAULT = compile(RetryConfig.DEFAULT);

  public RetryPolicy {
    statuses = Set.copyOf(statuses);
  }

  public static RetryPolicy compile(RetryConfig config) {
    Set<Integer> statuses = new HashSet<>();
    for (String condition : config.on()) {
      if (condition.length() == 3 && Character.isDigit(condition.charAt(0))) {
        statuses.add(Integer.parseInt(condition)); // validated by the config binder
      }
    }
    return new RetryPolicy(config.attempts(), config.on().contains("connect-failure"), config.on().contains("reset"),
        config.on().contains("timeout"), config.on().contains("5xx"), statuses);
  }

  boolean retriesStatus(int status) {
    return statuses.contains(status) || (on5xx && status >= 500 && status <= 599);
  }
}
