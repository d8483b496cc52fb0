/**
 * Test fixtures for end-to-end proxy tests, all on real sockets at 127.0.0.1 with port 0.
 *
 * <ul>
 *   <li>{@link io.gatehouse.testing.FakeUpstream}: a scriptable HTTP/1.1 origin, answering each
 *       request with a {@link io.gatehouse.testing.Reply} and recording it as a
 *       {@link io.gatehouse.testing.RecordedRequest}.</li>
 *   <li>{@link io.gatehouse.testing.RawHttpClient}: byte-exact requests on a plain socket, every
 *       read bounded.</li>
 *   <li>{@link io.gatehouse.testing.RawH2Client}: HTTP/2 over TLS (ALPN h2) frame by frame, for
 *       malformed frames and exact error codes; every read bounded.</li>
 *   <li>{@link io.gatehouse.testing.Curl}: the real curl binary, bounded, skipped when absent.</li>
 *   <li>{@link io.gatehouse.testing.TestCerts}: self-signed PEM certificate and key via openssl.</li>
 *   <li>{@link io.gatehouse.testing.ProxyUnderTest}: a Gatehouse started in-process from inline
 *       YAML ({@code ${NAME}} placeholders filled from a map; admin API on port 0).</li>
 *   <li>{@link io.gatehouse.testing.LeakDetectionExtension}: registered for every test class; a
 *       Netty leak report fails the class.</li>
 * </ul>
 *
 * <p>Use {@code java.net.http.HttpClient} with {@code Version.HTTP_1_1}: its default, HTTP/2,
 * makes it send an h2c upgrade on every plain-text request.
 */
package io.gatehouse.testing;
