package io.gatehouse.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a {@link FakeUpstream} does with one request. Built fluently and read by the upstream's
 * connection handler; do not change a reply after handing it to the upstream.
 *
 * <p>Unless {@link #early()}, the action runs once the whole request body has been read, after
 * {@link #firstByteDelay(Duration)}. Every response carries {@code X-Upstream: <name>}.
 */
public final class Reply {

    enum Action { RESPOND, RESET, CLOSE, HALF_CLOSE, HANG, ECHO }

    final Action action;
    int status = 200;
    final List<Map.Entry<String, String>> headers = new ArrayList<>();
    final List<Map.Entry<String, String>> trailers = new ArrayList<>();
    final List<Informational> informational = new ArrayList<>();
    /** The body, one entry per chunk; unused when {@link #bodyIsName} or {@link #generatedLength} >= 0. */
    List<byte[]> chunks = new ArrayList<>();
    boolean bodyIsName;
    long generatedLength = -1;
    boolean chunked;
    Long declaredContentLength;
    Duration firstByteDelay = Duration.ZERO;
    Duration chunkDelay = Duration.ZERO;
    boolean closeAfter;
    boolean closeDelimited;
    boolean announceClose;
    boolean halfCloseAfter;
    boolean early;
    boolean send100Continue = true;

    record Informational(int status, List<Map.Entry<String, String>> headers) {
    }

    private Reply(Action action) {
        this.action = action;
    }

    /** 200 with the upstream's name as body: the default reply. */
    public static Reply ok() {
        Reply reply = new Reply(Action.RESPOND);
        reply.bodyIsName = true;
        return reply;
    }

    /** The given status with an empty body (add one with {@link #body(String)}). */
    public static Reply status(int status) {
        return new Reply(Action.RESPOND).withStatus(status);
    }

    /** {@link #ok()} whose first byte is sent only after {@code firstByteDelay}. */
    public static Reply slow(Duration firstByteDelay) {
        return ok().firstByteDelay(firstByteDelay);
    }

    /** 200 with a body of {@code bytes} generated on the fly (see {@link GeneratedBody#byteAt}). */
    public static Reply stream(long bytes) {
        return status(200).streamBody(bytes);
    }

    /** Resets the connection (SO_LINGER 0, so an RST) instead of responding. */
    public static Reply reset() {
        return new Reply(Action.RESET);
    }

    /** Closes the connection (FIN) instead of responding. */
    public static Reply close() {
        return new Reply(Action.CLOSE);
    }

    /** Shuts down the output side (FIN) but keeps reading; no response is sent. */
    public static Reply halfClose() {
        return new Reply(Action.HALF_CLOSE);
    }

    /** Never responds; the connection stays open until the client or a test closes it. */
    public static Reply hang() {
        return new Reply(Action.HANG);
    }

    /**
     * 200, chunked, streaming the request body back as it arrives (with the request's
     * Content-Type). Starts at the request head. Buffers up to 32 MiB the client has not read yet,
     * then stops reading until it does.
     */
    public static Reply echo() {
        return new Reply(Action.ECHO);
    }

    public Reply withStatus(int status) {
        if (status < 100 || status > 999) {
            throw new IllegalArgumentException("status: " + status + " (expected: 100..999)");
        }
        this.status = status;
        return this;
    }

    public Reply header(String name, String value) {
        headers.add(Map.entry(name, value));
        return this;
    }

    public Reply body(String body) {
        return body(body.getBytes(StandardCharsets.UTF_8));
    }

    public Reply body(byte[] body) {
        bodyIsName = false;
        generatedLength = -1;
        chunks = new ArrayList<>(List.of(body));
        return this;
    }

    /** The body as these chunks, sent chunked (one HTTP chunk each), {@link #chunkDelay} apart. */
    public Reply chunks(String... parts) {
        body(new byte[0]);
        chunks.clear();
        for (String part : parts) {
            chunks.add(part.getBytes(StandardCharsets.UTF_8));
        }
        return chunked();
    }

    /** A body of {@code bytes} generated chunk by chunk without holding it in memory. */
    public Reply streamBody(long bytes) {
        body(new byte[0]);
        chunks.clear();
        generatedLength = bytes;
        return this;
    }

    /** Content-Length again (the default) after {@link #chunks}, which implies chunked: the parts still go {@link #chunkDelay} apart. */
    public Reply lengthDelimited() {
        chunked = false;
        return this;
    }

    /** Transfer-Encoding: chunked instead of Content-Length. */
    public Reply chunked() {
        chunked = true;
        return this;
    }

    /** A trailer field in the last chunk; implies {@link #chunked()}. */
    public Reply trailer(String name, String value) {
        trailers.add(Map.entry(name, value));
        return chunked();
    }

    /** An informational (1xx) response sent before the final one, e.g. 103 Early Hints. */
    public Reply informational(int status, String... headerNamesAndValues) {
        if (status < 100 || status > 199 || status == 101) {
            throw new IllegalArgumentException("status: " + status + " (expected: 1xx other than 101)");
        }
        if (headerNamesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("headerNamesAndValues: odd length " + headerNamesAndValues.length);
        }
        List<Map.Entry<String, String>> fields = new ArrayList<>();
        for (int i = 0; i < headerNamesAndValues.length; i += 2) {
            fields.add(Map.entry(headerNamesAndValues[i], headerNamesAndValues[i + 1]));
        }
        informational.add(new Informational(status, fields));
        return this;
    }

    public Reply firstByteDelay(Duration delay) {
        firstByteDelay = delay;
        return this;
    }

    /** Pause between the {@link #chunks} (and before the last, empty one): a trickling body. */
    public Reply chunkDelay(Duration delay) {
        chunkDelay = delay;
        return this;
    }

    /**
     * Declares {@code contentLength} (more than the body holds), sends the body, then closes: a
     * truncated response (RFC 9112 §6.3 rule 5 says the recipient must treat it as incomplete).
     */
    public Reply declaredContentLength(long contentLength) {
        declaredContentLength = contentLength;
        return this;
    }

    /**
     * Neither Content-Length nor chunked: the body ends when the connection closes (RFC 9112 §6.3
     * rule 8), so the upstream closes after it.
     */
    public Reply closeDelimited() {
        closeDelimited = true;
        chunked = false;
        trailers.clear();
        return this;
    }

    /** Sends {@code Connection: close} and closes after the response. */
    public Reply closeAfter() {
        closeAfter = true;
        announceClose = true;
        return this;
    }

    /** Closes after the response without announcing it, as a careless origin would. */
    public Reply closeAfterSilently() {
        closeAfter = true;
        announceClose = false;
        return this;
    }

    /** Shuts down the output side (FIN) after the response and keeps reading. */
    public Reply halfCloseAfter() {
        halfCloseAfter = true;
        return this;
    }

    /** Acts at the request head instead of waiting for the request body (which is then drained). */
    public Reply early() {
        early = true;
        return this;
    }

    /**
     * For a request with {@code Expect: 100-continue}: do not send {@code 100 Continue}, answer at
     * once with this reply instead (e.g. {@code Reply.status(417).withoutContinue()}).
     */
    public Reply withoutContinue() {
        send100Continue = false;
        early = true;
        return this;
    }
}
