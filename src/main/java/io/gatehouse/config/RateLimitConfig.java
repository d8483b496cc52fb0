package io.gatehouse.config;

/** Token-bucket rate limit. {@code key} is {@code clientIp}, {@code route} or {@code header:NAME}. */
public record RateLimitConfig(String key, double perSecond, int burst) {}
