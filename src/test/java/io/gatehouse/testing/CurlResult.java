package io.gatehouse.testing;

/**
 * What one {@link Curl} run produced.
 *
 * @param exitCode curl's exit code (0 success, 7 could not connect, 28 timeout, 56 recv failure, ...)
 * @param status the final HTTP status ({@code %{http_code}}), 0 when there was none
 * @param connectStatus the proxy's answer to CONNECT ({@code %{http_connect}}), 0 when not tunnelling
 * @param stdout the response body
 * @param stderr curl's diagnostics (with {@code -v}, the exchanged headers)
 */
public record CurlResult(int exitCode, int status, int connectStatus, String stdout, String stderr) {
}
