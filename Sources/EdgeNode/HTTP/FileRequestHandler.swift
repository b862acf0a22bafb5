import Dispatch
import Foundation
import HTTPSemantics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// Answers GET, HEAD and OPTIONS for files under the content root, following the plan `ResponsePlanner` makes:
/// small files from memory, everything else with sendfile (`FileRegion`), multipart ranges as alternating buffers
/// and file regions. Responses are decided synchronously as requests arrive, so pipelined requests are answered in
/// order by construction. One instance per connection.
final class FileRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = IOData

    let store: ContentStore
    let settings: ServerSettings
    let logger: Logger
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    var responding = false
    var draining = false
    /// The connection is ending: later requests on it are not answered.
    var closing = false
    /// When the connection last received bytes or finished a response (uptime ns): the idle timeout counts from here.
    var lastActivity: UInt64 = 0
    /// When the response under way last made progress — started, drained its write buffer, or was acknowledged by
    /// the client at the minimum pace (uptime ns): the send timeout counts from here.
    var lastProgress: UInt64 = 0
    /// What `SendProgress` measured at the last timeout check.
    private var progress = SendProgress()
    private var timeoutCheck: RepeatedTask?
    private var corked = false
    /// Requests that arrived while the client was not reading its responses, answered once it does.
    private var waiting = CircularBuffer<(head: HTTPRequestHead, bodyBytes: Int)>()
    /// More requests than this waiting and the client is pipelining without reading: the connection is closed.
    static let maximumWaiting = 64
    /// A caching node's cache, manifests and fills (nil on an origin).
    let edge: EdgeService?
    let traffic: TrafficMeter
    /// A response is being produced asynchronously (a cache miss): later requests wait their turn.
    var asyncBusy = false
    /// The miss response streaming now, if any.
    var inFlight: MissResponse?
    private static let cork = ChannelOptions.tcpOption(NIOBSDSocket.Option(rawValue: TCP_CORK))
    private static let corkThreshold: UInt64 = 256 * 1024

    /// `/healthz`, `/metrics`, `/cluster`, `/route/…` and playlist redirects.
    let endpoints: NodeEndpoints

    init(store: ContentStore, settings: ServerSettings, edge: EdgeService?, traffic: TrafficMeter, endpoints: NodeEndpoints, logger: Logger) {
        self.store = store
        self.endpoints = endpoints
        self.edge = edge
        self.traffic = traffic
        self.settings = settings
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = DispatchTime.now().uptimeNanoseconds
        // One timer per connection, not one per request: idle keep-alive connections and responses that make no
        // progress are closed.
        let interval = TimeAmount.seconds(max(1, min(settings.idleTimeoutSeconds, settings.sendTimeoutSeconds) / 2))
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeoutCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.checkTimeouts(context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeoutCheck?.cancel()
        if let inFlight, let edge {
            edge.engine.cancel(inFlight)
            self.inFlight = nil
        }
        context.fireChannelInactive()
    }

    /// Idle keep-alive connections are closed after the idle timeout. A response is abandoned only when its client
    /// has not acknowledged bytes at the minimum pace for the send timeout — progress, not total duration, so a slow
    /// but steady viewer is served to the end — and a response counts as under way until the client has acknowledged
    /// it, not only until it was handed to the kernel (whose buffers can hold megabytes for a reader that stopped).
    /// Bytes the client sends meanwhile count for nothing here (each request has its own deadline in
    /// `RequestHeadGuard`).
    private func checkTimeouts(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        SendProgress.measure(context.channel).whenComplete { result in
            let (handler, context) = loopBound.value
            let now = DispatchTime.now().uptimeNanoseconds
            var sending = handler.responding
            if case .success(let measurement) = result {
                if handler.progress.advanced(to: measurement.acknowledged, at: now, minimumPerSecond: handler.settings.sendMinimumBytesPerSecond) {
                    handler.lastProgress = now
                }
                sending = sending || measurement.pending
            }
            if sending {
                if now &- handler.lastProgress > UInt64(handler.settings.sendTimeoutSeconds) * 1_000_000_000 {
                    handler.logger.debug("resetting a response that made no progress", metadata: ["send-timeout": "\(handler.settings.sendTimeoutSeconds)"])
                    // A reset, not a close: the kernel would otherwise keep trying to deliver what its buffers hold.
                    let reset = (context.channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    (reset ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in loopBound.value.1.close(promise: nil) }
                }
            } else if now &- handler.lastActivity > UInt64(handler.settings.idleTimeoutSeconds) * 1_000_000_000 {
                context.close(promise: nil)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastActivity = DispatchTime.now().uptimeNanoseconds
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            bodyBytes = 0
            if !responding { lastProgress = DispatchTime.now().uptimeNanoseconds }
            responding = true
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > settings.maxBodyBytes, head != nil {
                head = nil
                closing = true
                context.pipeline.fireUserInboundEventTriggered(StopReading())
                respond(context: context, plan: ResponsePlanner.status(413, "request body too large"), file: nil,
                        keepAlive: false, http10: false, lingering: true)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if Self.carriesBody(requestHead, bodyBytes: bodyBytes) {
                // A request with a body (even an empty chunked one) is answered, then the connection ends: stop
                // reading and timing what follows (the head guard cannot see where a chunked body ends).
                context.pipeline.fireUserInboundEventTriggered(StopReading())
            }
            guard context.channel.isWritable && waiting.isEmpty && !asyncBusy else {
                // Back-pressure: answer later, when the client has read what it was sent.
                waiting.append((requestHead, bodyBytes))
                if waiting.count > Self.maximumWaiting {
                    logger.debug("closing a connection that pipelines without reading", metadata: ["waiting": "\(waiting.count)"])
                    closing = true
                    context.close(promise: nil)
                }
                return
            }
            handle(context: context, request: requestHead)
        }
    }

    func answerWaiting(context: ChannelHandlerContext) {
        while context.channel.isWritable && !closing && !asyncBusy, let next = waiting.popFirst() {
            bodyBytes = next.bodyBytes
            handle(context: context, request: next.head)
        }
    }

    func handle(context: ChannelHandlerContext, request: HTTPRequestHead) {
        // A request that carried a body is answered, then the connection is not reused.
        let keepAlive = request.isKeepAlive && !draining && !Self.carriesBody(request, bodyBytes: bodyBytes)
        let http10 = request.version.major == 1 && request.version.minor == 0
        if !keepAlive { context.pipeline.fireUserInboundEventTriggered(StopReading()) }
        let hosts = Self.hostFieldCount(request.headers)
        if hosts > 1 || (hosts == 0 && !http10) {
            // RFC 9112 §3.2: an HTTP/1.1 request must carry exactly one Host; no request may carry two.
            closing = true
            context.pipeline.fireUserInboundEventTriggered(StopReading())
            respond(context: context, plan: ResponsePlanner.status(400, hosts == 0 ? "missing Host header" : "more than one Host header"),
                    file: nil, keepAlive: false, http10: http10, lingering: true)
            return
        }
        switch request.method {
        case .GET, .HEAD:
            let isHead = request.method == .HEAD
            if let plan = endpoints.answer(request, isHead: isHead, peer: context.channel.remoteAddress) {
                respond(context: context, plan: plan, file: nil, keepAlive: keepAlive, http10: http10)
                return
            }
            if endpoints.router != nil, let contentID = ContentSteering.steeredContent(request.uri), let steering = endpoints.steering {
                startSteered(context: context, request: request, contentID: contentID, steering: steering, keepAlive: keepAlive, http10: http10)
                return
            }
            let found = store.lookup(path: request.uri[...])
            if case .file(let file) = found {
                serve(context: context, request: request, file: file, cacheFields: edge.map { cachedFields($0, uri: request.uri, file: file) },
                      keepAlive: keepAlive, http10: http10)
            } else if let edge {
                // Not held, or held with bytes that failed verification (evicted as it was found): filled again.
                startMiss(context: context, request: request, edge: edge, keepAlive: keepAlive, http10: http10)
            } else if case .tampered = found {
                // An origin's own copy rotted: refuse to spread it (caches then ask their next parent).
                respond(context: context, plan: ResponsePlanner.status(500, "stored content does not match its signed manifest", isHead: isHead),
                        file: nil, keepAlive: keepAlive, http10: http10)
            } else {
                respond(context: context, plan: ResponsePlanner.status(404, "not found", isHead: isHead), file: nil, keepAlive: keepAlive, http10: http10)
            }
        case .OPTIONS:
            respond(context: context, plan: ResponsePlanner.preflight(), file: nil, keepAlive: keepAlive, http10: http10)
        default:
            respond(context: context, plan: ResponsePlanner.methodNotAllowed(), file: nil, keepAlive: keepAlive, http10: http10)
        }
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

    /// Answers a GET or HEAD of a file at hand; `cacheFields` (`X-Cache`, `Age`) on a caching node.
    func serve(context: ChannelHandlerContext, request: HTTPRequestHead, file: OpenedFile, cacheFields: [ResponsePlan.Field]?,
               keepAlive: Bool, http10: Bool) {
        let isHead = request.method == .HEAD
        let conditions = Self.conditions(request.headers)
        let selection = conditions.map { ResponsePlanner.select(isHead: isHead, request: $0, representation: file.representation) } ?? .whole
        switch selection {
        case .whole:
            sendFast(context: context, file: file, range: 0..<file.representation.length, partial: false, isHead: isHead,
                     extra: cacheFields, keepAlive: keepAlive, http10: http10)
        case .ranges(let ranges) where ranges.count == 1:
            sendFast(context: context, file: file, range: ranges[0], partial: true, isHead: isHead, extra: cacheFields,
                     keepAlive: keepAlive, http10: http10)
        default:
            var plan = ResponsePlanner.plan(isHead: isHead, request: conditions ?? ConditionalRequest(),
                                            representation: file.representation, boundary: Self.makeBoundary())
            plan.fields += cacheFields ?? []
            respond(context: context, plan: plan, file: file, keepAlive: keepAlive, http10: http10)
        }
    }

    /// The Range and precondition fields, or nil when the request has none.
    static func conditions(_ headers: HTTPHeaders) -> ConditionalRequest? {
        var request = ConditionalRequest()
        var any = false
        for (name, value) in headers {
            guard let first = name.utf8.first, first | 0x20 == UInt8(ascii: "r") || first | 0x20 == UInt8(ascii: "i") else { continue }
            func append(_ existing: String?) -> String { existing.map { $0 + ", " + value } ?? value }
            if name.isASCIIEqual(caseInsensitive: "range") {
                request.range = value
            } else if name.isASCIIEqual(caseInsensitive: "if-range") {
                request.ifRange = value
            } else if name.isASCIIEqual(caseInsensitive: "if-match") {
                request.ifMatch = append(request.ifMatch)
            } else if name.isASCIIEqual(caseInsensitive: "if-none-match") {
                request.ifNoneMatch = append(request.ifNoneMatch)
            } else if name.isASCIIEqual(caseInsensitive: "if-modified-since") {
                request.ifModifiedSince = value
            } else if name.isASCIIEqual(caseInsensitive: "if-unmodified-since") {
                request.ifUnmodifiedSince = value
            } else {
                continue
            }
            any = true
        }
        return any ? request : nil
    }

    static func makeBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        return "edgenode-" + String(generator.next() as UInt64, radix: 16)
    }

    /// 200 or single-part 206: the file's prepared common fields plus Content-Range and Content-Length.
    func sendFast(context: ChannelHandlerContext, file: OpenedFile, range: Range<UInt64>, partial: Bool, isHead: Bool,
                  extra: [ResponsePlan.Field]? = nil, keepAlive: Bool, http10: Bool) {
        let inline = !isHead && file.bytes != nil ? Int(range.count) : 0
        var head = ResponseHead.begin(status: partial ? 206 : 200, capacity: file.commonFields.readableBytes + inline,
                                      allocator: context.channel.allocator)
        head.writeImmutableBuffer(file.commonFields)
        if partial {
            ResponseHead.writeField("Content-Range", ResponsePlanner.contentRange(range, file.representation.length), into: &head)
        }
        ResponseHead.writeField("Content-Length", String(range.count), into: &head)
        for field in extra ?? [] { ResponseHead.writeField(field.name, field.value, into: &head) }
        ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
        let plan = ResponsePlan(status: partial ? 206 : 200, fields: [], body: .file(range), sendsBody: !isHead)
        send(context: context, head: head, plan: plan, file: file, keepAlive: keepAlive, http10: http10)
    }

    func respond(context: ChannelHandlerContext, plan: ResponsePlan, file: OpenedFile?, keepAlive: Bool, http10: Bool,
                         lingering: Bool = false) {
        var head = ResponseHead.begin(status: plan.status, capacity: 512, allocator: context.channel.allocator)
        ResponseHead.write(plan, into: &head)
        ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
        send(context: context, head: head, plan: plan, file: file, keepAlive: keepAlive, http10: http10, lingering: lingering)
    }

    /// Writes a complete head, then the body the plan names.
    func send(context: ChannelHandlerContext, head: ByteBuffer, plan: ResponsePlan, file: OpenedFile?,
                      keepAlive: Bool, http10: Bool, lingering: Bool = false) {
        var head = head
        if plan.sendsBody { traffic.sending(plan.contentLength) }
        if plan.sendsBody, case .text(let text) = plan.body { head.writeString(text) }
        if plan.sendsBody, case .file(let range) = plan.body, let bytes = file?.bytes {
            // Small file: one buffer for head and body, one write.
            head.writeImmutableBuffer(bytes.getSlice(at: bytes.readerIndex + Int(range.lowerBound), length: Int(range.count))!)
        } else if plan.sendsBody {
            // A large body goes out corked (full TCP segments, head included), uncorked when done: +40% throughput
            // on whole segments, while small bodies would only pay the two extra system calls.
            if plan.contentLength >= Self.corkThreshold {
                corked = true
                context.channel.setOption(Self.cork, value: 1).whenFailure { _ in }
            }
            context.write(wrapOutboundOut(.byteBuffer(head)), promise: nil)
            head = context.channel.allocator.buffer(capacity: 0)
            writeBody(context: context, plan: plan, file: file)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.byteBuffer(head)))
        if !keepAlive { closing = true }
        if lingering {
            LingeringClose.start(context, after: done)
            return
        }
        let shared = file?.shared
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        done.whenComplete { result in
            // The shared descriptor stays open until this response no longer needs it.
            withExtendedLifetime(shared) {}
            let (handler, context) = loopBound.value
            if handler.corked {
                handler.corked = false
                context.channel.setOption(Self.cork, value: 0).whenFailure { _ in }
            }
            handler.responding = false
            handler.lastActivity = DispatchTime.now().uptimeNanoseconds
            let failed: Bool
            if case .failure = result { failed = true } else { failed = false }
            if failed || !keepAlive || handler.draining {
                context.close(promise: nil)
            }
        }
    }

    private func writeBody(context: ChannelHandlerContext, plan: ResponsePlan, file: OpenedFile?) {
        switch plan.body {
        case .empty, .text:
            break
        case .file(let range):
            if let file { writeRange(context: context, file: file, range: range) }
        case .multipart(let parts, let closing):
            guard let file else { return }
            for part in parts {
                context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: part.head))), promise: nil)
                writeRange(context: context, file: file, range: part.range)
            }
            context.write(wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(string: closing))), promise: nil)
        }
    }

    private func writeRange(context: ChannelHandlerContext, file: OpenedFile, range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        if let bytes = file.bytes {
            let slice = bytes.getSlice(at: bytes.readerIndex + Int(range.lowerBound), length: Int(range.upperBound - range.lowerBound))!
            context.write(wrapOutboundOut(.byteBuffer(slice)), promise: nil)
        } else if let handle = file.shared?.handle(on: context.eventLoop) {
            let region = FileRegion(fileHandle: handle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound))
            context.write(wrapOutboundOut(.fileRegion(region)), promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainRequest {
            draining = true
            if !responding { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A drained write buffer is progress on a long response.
        if context.channel.isWritable { lastProgress = DispatchTime.now().uptimeNanoseconds }
        // Back-pressure: a client that pipelines requests but does not read responses stops being read from.
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        if context.channel.isWritable { answerWaiting(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Parser errors: 431 for oversized header fields, 400 for anything malformed; then the connection ends.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError, !closing else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        closing = true
        context.pipeline.fireUserInboundEventTriggered(StopReading())
        let plan = parserError == .headerOverflow
            ? ResponsePlanner.status(431, "request header fields too large")
            : ResponsePlanner.status(400, "bad request")
        respond(context: context, plan: plan, file: nil, keepAlive: false, http10: false, lingering: true)
    }
}

extension String {
    /// ASCII case-insensitive equality with a lowercase literal, without allocating.
    func isASCIIEqual(caseInsensitive lowercase: StaticString) -> Bool {
        guard utf8.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(utf8, expected).allSatisfy { $0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0) == $1 }
        }
    }
}

/// The `Date` header value, formatted at most once per second per thread.
enum DateHeader {
    /// Confined to the thread that created it.
    private final class Cache: @unchecked Sendable {
        var second: Int64 = -1
        var value = ""
    }

    private static let cache = ThreadSpecificVariable<Cache>()

    static func current() -> String {
        let now = Int64(time(nil))
        let box: Cache
        if let existing = cache.currentValue {
            box = existing
        } else {
            box = Cache()
            cache.currentValue = box
        }
        if box.second != now {
            box.second = now
            box.value = HTTPDate.format(now)
        }
        return box.value
    }
}
