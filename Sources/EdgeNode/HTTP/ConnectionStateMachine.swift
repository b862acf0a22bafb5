import NIOCore
import NIOHTTP1
import Gossip

/// One HTTP/1.1 connection's state, without I/O: which request is being received, which are waiting their turn,
/// whether a response is under way or produced asynchronously, whether the connection is draining or ending, and
/// when it last made progress. Every input returns what the handler must do (as swift-nio's
/// `HTTPServerPipelineHandler` state machine does); `FileRequestHandler` only performs those actions.
///
/// Rules it keeps:
/// - Requests are answered in arrival order. A request that arrives while the client is not reading (the channel is
///   not writable), while earlier ones wait, or while a response is produced asynchronously waits too; more than
///   `maximumWaiting` waiting and the client is pipelining without reading: the connection is closed.
/// - A request with a body (bytes, or chunked framing even if empty) is answered, then the connection ends; a body
///   over `maximumBodyBytes` is refused with 413 and the connection ends. The first `maximumRetainedBody` bytes of a
///   POST body are kept for the handler (`POST /fleet/emergency`); other bodies are only counted.
/// - RFC 9112 §3.2: an HTTP/1.1 request must carry exactly one `Host`; no request may carry two (400, then close).
/// - Idle keep-alive connections close after the idle timeout; a response is reset when its client has not taken
///   bytes at the minimum pace for the send timeout (progress, not total duration: a slow but steady viewer is served
///   to the end).
struct ConnectionStateMachine {
    /// A request ready to be answered, with how its response must end.
    struct Request {
        let head: HTTPRequestHead
        /// The connection stays open after this response.
        let keepAlive: Bool
        let http10: Bool
        /// A POST's body as far as it was kept (at most `maximumRetainedBody` bytes), else nil.
        var body: ByteBuffer? = nil
        /// How many body bytes arrived (kept or not).
        var bodyBytes = 0
    }

    /// What the handler must do.
    enum Action {
        case nothing
        /// Produce the response to this request (synchronously, or asynchronously between `beginAsync` and `endAsync`).
        case answer(Request)
        /// Answer with this status and reason, then close after lingering (the client may still be sending).
        case refuse(status: Int, reason: String, http10: Bool)
        case close
        /// Close with a reset: the kernel must not keep trying to deliver what its buffers hold.
        case reset
    }

    /// An action, and whether to stop reading (and timing) what the client sends first.
    struct Step {
        var stopReading = false
        var action = Action.nothing
    }

    struct Limits {
        var maximumBodyBytes: Int
        /// POST body bytes kept for the handler; the rest is only counted.
        var maximumRetainedBody = 4096
        var maximumWaiting = 64
        var idleTimeout: UInt64
        var sendTimeout: UInt64
    }

    let limits: Limits
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var body: ByteBuffer?
    private var waiting = CircularBuffer<(head: HTTPRequestHead, bodyBytes: Int, body: ByteBuffer?)>()
    /// A request has arrived and its response has not been completely written yet.
    private(set) var responding = false
    /// A response is being produced asynchronously (a cache miss, a manifest to fetch): later requests wait.
    private(set) var busy = false
    /// The server is shutting down: the connection closes after the response under way.
    private(set) var draining = false
    /// The connection is ending: later requests on it are not answered.
    private(set) var closing = false
    /// When the connection last received bytes or finished a response (uptime ns): the idle timeout counts from here.
    private(set) var lastActivity: UInt64
    /// When the response under way last made progress — started, drained its write buffer, or was acknowledged at
    /// the minimum pace (uptime ns): the send timeout counts from here.
    private(set) var lastProgress: UInt64

    init(limits: Limits, now: UInt64) {
        self.limits = limits
        lastActivity = now
        lastProgress = now
    }

    /// Requests waiting their turn.
    var waitingCount: Int { waiting.count }

    mutating func receivedHead(_ requestHead: HTTPRequestHead, now: UInt64) -> Step {
        guard !closing else { return Step() }
        head = requestHead
        bodyBytes = 0
        body = nil
        if !responding { lastProgress = now }
        responding = true
        return Step()
    }

    mutating func receivedBody(_ buffer: ByteBuffer) -> Step {
        guard !closing else { return Step() }
        if head?.method == .POST {
            var kept = body ?? ByteBuffer()
            let room = max(0, limits.maximumRetainedBody - kept.readableBytes)
            if room > 0, let slice = buffer.getSlice(at: buffer.readerIndex, length: min(room, buffer.readableBytes)) {
                kept.writeImmutableBuffer(slice)
            }
            body = kept
        }
        bodyBytes += buffer.readableBytes
        guard bodyBytes > limits.maximumBodyBytes, head != nil else { return Step() }
        head = nil
        body = nil
        closing = true
        return Step(stopReading: true, action: .refuse(status: 413, reason: "request body too large", http10: false))
    }

    /// The request is complete; `writable`: whether the client is reading what it is sent.
    mutating func receivedEnd(writable: Bool) -> Step {
        guard !closing, let requestHead = head else { return Step() }
        head = nil
        let requestBody = body
        body = nil
        // The head guard cannot see where a chunked body ends: stop reading and timing what follows.
        let stopReading = Self.carriesBody(requestHead, bodyBytes: bodyBytes)
        guard writable && waiting.isEmpty && !busy else {
            waiting.append((requestHead, bodyBytes, requestBody))
            guard waiting.count > limits.maximumWaiting else { return Step(stopReading: stopReading) }
            closing = true
            return Step(stopReading: stopReading, action: .close)
        }
        var step = start(requestHead, bodyBytes: bodyBytes, body: requestBody)
        step.stopReading = step.stopReading || stopReading
        return step
    }

    /// The next waiting request, if it may be answered now (the client reads again, or an asynchronous response
    /// ended); nil when none may.
    mutating func nextWaiting(writable: Bool) -> Step? {
        guard writable && !closing && !busy, let next = waiting.popFirst() else { return nil }
        return start(next.head, bodyBytes: next.bodyBytes, body: next.body)
    }

    private mutating func start(_ requestHead: HTTPRequestHead, bodyBytes: Int, body: ByteBuffer?) -> Step {
        let keepAlive = requestHead.isKeepAlive && !draining && !Self.carriesBody(requestHead, bodyBytes: bodyBytes)
        let http10 = requestHead.version.major == 1 && requestHead.version.minor == 0
        let hosts = Self.hostFieldCount(requestHead.headers)
        if hosts > 1 || (hosts == 0 && !http10) {
            closing = true
            return Step(stopReading: true, action: .refuse(status: 400, reason: hosts == 0 ? "missing Host header" : "more than one Host header",
                                                            http10: http10))
        }
        return Step(stopReading: !keepAlive, action: .answer(Request(head: requestHead, keepAlive: keepAlive, http10: http10, body: body,
                                                                     bodyBytes: bodyBytes)))
    }

    /// A response was handed to the channel whole (or its streaming began): after the last one, the connection ends.
    mutating func responseWritten(keepAlive: Bool) {
        if !keepAlive { closing = true }
    }

    /// A refusal (`.refuse`) or a cut-off stream: nothing more is answered on this connection.
    mutating func end() {
        closing = true
    }

    /// An asynchronous response begins: later requests wait until `endAsync`.
    mutating func beginAsync() {
        busy = true
    }

    mutating func endAsync() {
        busy = false
    }

    /// A response's last byte was written (or the write failed): close when it failed, was the last one, or the
    /// server is draining.
    mutating func responseCompleted(succeeded: Bool, keepAlive: Bool, now: UInt64) -> Action {
        responding = false
        lastActivity = now
        return !succeeded || !keepAlive || draining ? .close : .nothing
    }

    /// The server is shutting down: close now if idle, else after the response under way.
    mutating func drainRequested() -> Action {
        draining = true
        return responding ? .nothing : .close
    }

    /// The parser refused the bytes: 431 for oversized header fields, 400 for anything malformed, then the end.
    mutating func parserFailed(headerOverflow: Bool) -> Step {
        guard !closing else { return Step(action: .close) }
        closing = true
        return Step(stopReading: true, action: headerOverflow ? .refuse(status: 431, reason: "request header fields too large", http10: false)
                                                              : .refuse(status: 400, reason: "bad request", http10: false))
    }

    /// Bytes arrived (or the connection opened): the idle timeout counts from now.
    mutating func noteActivity(now: UInt64) {
        lastActivity = now
    }

    /// The write buffer drained: progress on a long response.
    mutating func becameWritable(now: UInt64) {
        lastProgress = now
    }

    /// The periodic timeout check: `acknowledgedAtPace` whether the client took bytes at the minimum pace since the
    /// last check, `bytesPending` whether sent bytes still wait in the kernel for it.
    mutating func checkTimeouts(now: UInt64, acknowledgedAtPace: Bool, bytesPending: Bool) -> Action {
        if acknowledgedAtPace { lastProgress = now }
        if responding || bytesPending {
            return now.elapsed(since: lastProgress) > limits.sendTimeout ? .reset : .nothing
        }
        return now.elapsed(since: lastActivity) > limits.idleTimeout ? .close : .nothing
    }

    /// Whether a request came with a body (bytes, or chunked framing even if empty).
    static func carriesBody(_ request: HTTPRequestHead, bodyBytes: Int) -> Bool {
        bodyBytes > 0 || request.headers.contains { $0.name.isASCIIEqual(caseInsensitive: "transfer-encoding") }
    }

    /// How many `Host` fields a request has (without allocating: this runs for every request).
    static func hostFieldCount(_ headers: HTTPHeaders) -> Int {
        var count = 0
        for (name, value) in headers where name.isASCIIEqual(caseInsensitive: "host") {
            count += value.utf8.contains(UInt8(ascii: ",")) ? 2 : 1
        }
        return count
    }
}
