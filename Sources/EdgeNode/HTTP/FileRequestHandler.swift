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
import Gossip
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
    /// The connection's state: every event goes through it, and this handler performs what it answers.
    var state: ConnectionStateMachine
    /// What `SendProgress` measured at the last timeout check.
    private var progress = SendProgress()
    private var timeoutCheck: RepeatedTask?
    var corked = false
    /// A caching node's cache, manifests and fills (nil on an origin).
    let edge: EdgeService?
    let traffic: TrafficMeter
    /// Request counts and latencies.
    let metrics: DataPlaneMetrics
    /// Where finished responses are logged, if anywhere.
    let accessLog: AccessLog?
    /// The response being answered (the metrics' and the access log's record of it).
    var current = ResponseRecord(started: 0, kind: .other)
    /// The miss response streaming now, if any.
    var inFlight: MissResponse?
    private static let cork = ChannelOptions.tcpOption(NIOBSDSocket.Option(rawValue: TCP_CORK))
    private static let corkThreshold: UInt64 = 256 * 1024

    /// `/healthz`, `/metrics`, `/cluster`, `/route/…`, `/fleet/emergency` and viewer redirects.
    let endpoints: NodeEndpoints
    /// The connection came in over HTTPS: redirects and steered playlists keep that scheme.
    let secure: Bool
    /// The request being answered is served in degraded emergency mode: its response carries `X-Emergency: degraded`.
    var degraded = false
    /// The media the response being answered delivers to a viewer: counted (`ViewRecorder`) once its last byte is
    /// written, never for a response cut short.
    var pendingView: PendingView?

    init(store: ContentStore, settings: ServerSettings, edge: EdgeService?, traffic: TrafficMeter, metrics: DataPlaneMetrics,
         accessLog: AccessLog?, endpoints: NodeEndpoints, secure: Bool, logger: Logger) {
        self.store = store
        self.secure = secure
        self.endpoints = endpoints
        self.edge = edge
        self.traffic = traffic
        self.metrics = metrics
        self.accessLog = accessLog
        self.settings = settings
        self.logger = logger
        let limits = ConnectionStateMachine.Limits(maximumBodyBytes: settings.maxBodyBytes,
                                                   idleTimeout: UInt64(settings.idleTimeoutSeconds) * 1_000_000_000,
                                                   sendTimeout: UInt64(settings.sendTimeoutSeconds) * 1_000_000_000)
        state = ConnectionStateMachine(limits: limits, now: DispatchTime.now().uptimeNanoseconds)
    }

    func channelActive(context: ChannelHandlerContext) {
        state.noteActivity(now: DispatchTime.now().uptimeNanoseconds)
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

    /// A response counts as under way until the client has acknowledged it, not only until it was handed to the
    /// kernel (whose buffers can hold megabytes for a reader that stopped). Bytes the client sends meanwhile count for
    /// nothing here (each request has its own deadline in `RequestHeadGuard`).
    private func checkTimeouts(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        SendProgress.measure(context.channel).whenComplete { result in
            let (handler, context) = loopBound.value
            let now = DispatchTime.now().uptimeNanoseconds
            var atPace = false, pending = false
            if case .success(let measurement) = result {
                atPace = handler.progress.advanced(to: measurement.acknowledged, at: now, minimumPerSecond: handler.settings.sendMinimumBytesPerSecond)
                pending = measurement.pending
            }
            let action = handler.state.checkTimeouts(now: now, acknowledgedAtPace: atPace, bytesPending: pending)
            if case .reset = action {
                handler.logger.debug("resetting a response that made no progress", metadata: ["send-timeout": "\(handler.settings.sendTimeoutSeconds)"])
            }
            handler.perform(Step(action: action), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        state.noteActivity(now: DispatchTime.now().uptimeNanoseconds)
        context.fireChannelReadComplete()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            perform(state.receivedHead(requestHead, now: DispatchTime.now().uptimeNanoseconds), context: context)
        case .body(let buffer):
            perform(state.receivedBody(buffer), context: context)
        case .end:
            let step = state.receivedEnd(writable: context.channel.isWritable)
            if case .close = step.action {
                logger.debug("closing a connection that pipelines without reading", metadata: ["waiting": "\(state.waitingCount)"])
            }
            perform(step, context: context)
        }
    }

    typealias Step = ConnectionStateMachine.Step

    /// Carries out what the state machine answered.
    func perform(_ step: Step, context: ChannelHandlerContext) {
        if step.stopReading { context.pipeline.fireUserInboundEventTriggered(StopReading()) }
        switch step.action {
        case .nothing:
            break
        case .answer(let request):
            handle(context: context, request: request)
        case .refuse(let status, let reason, let http10):
            degraded = false
            current = ResponseRecord(started: DispatchTime.now().uptimeNanoseconds, kind: .other)
            respond(context: context, plan: ResponsePlanner.status(status, reason), file: nil, keepAlive: false, http10: http10, lingering: true)
        case .close:
            context.close(promise: nil)
        case .reset:
            // A reset, not a close: the kernel would otherwise keep trying to deliver what its buffers hold.
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let reset = (context.channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            (reset ?? context.eventLoop.makeSucceededVoidFuture()).whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }

    /// Answers the requests that waited, as far as the client reads and no asynchronous response is under way.
    func answerWaiting(context: ChannelHandlerContext) {
        while let step = state.nextWaiting(writable: context.channel.isWritable) {
            perform(step, context: context)
        }
    }

    func handle(context: ChannelHandlerContext, request: ConnectionStateMachine.Request) {
        let (keepAlive, http10) = (request.keepAlive, request.http10)
        let head = request.head
        degraded = false
        pendingView = nil
        beginRecord(head, context: context)
        switch head.method {
        case .GET, .HEAD:
            let isHead = head.method == .HEAD
            if let plan = endpoints.answer(head, isHead: isHead, peer: context.channel.remoteAddress) {
                (current.kind, current.answer) = (.endpoint, .endpoint)
                respond(context: context, plan: plan, file: nil, keepAlive: keepAlive, http10: http10)
                return
            }
            switch endpoints.viewerRoute(head, isHead: isHead, peer: context.channel.remoteAddress, secure: secure) {
            case .serve:
                break
            case .serveDegraded:
                degraded = true
            case .redirect(let plan):
                current.answer = .redirect
                respond(context: context, plan: plan, file: nil, keepAlive: keepAlive, http10: http10)
                return
            }
            if let contentID = ContentSteering.steeredContent(head.uri), let steering = endpoints.steering {
                startSteered(context: context, request: head, contentID: contentID, steering: steering, keepAlive: keepAlive, http10: http10)
                return
            }
            let found = store.lookup(path: head.uri[...])
            if case .file(let file) = found {
                serve(context: context, request: head, file: file, cacheFields: edge.map { cachedFields($0, uri: head.uri, file: file) },
                      keepAlive: keepAlive, http10: http10)
            } else if let edge {
                // Not held, or held with bytes that failed verification (evicted as it was found): filled again.
                startMiss(context: context, request: head, edge: edge, keepAlive: keepAlive, http10: http10)
            } else if case .tampered = found {
                // An origin's own copy rotted: refuse to spread it (caches then ask their next parent).
                respond(context: context, plan: ResponsePlanner.status(500, "stored content does not match its signed manifest", isHead: isHead),
                        file: nil, keepAlive: keepAlive, http10: http10)
            } else {
                respond(context: context, plan: ResponsePlanner.status(404, "not found", isHead: isHead), file: nil, keepAlive: keepAlive, http10: http10)
            }
        case .OPTIONS:
            respond(context: context, plan: ResponsePlanner.preflight(), file: nil, keepAlive: keepAlive, http10: http10)
        case .POST where head.uri.prefix(while: { $0 != "?" }) == EmergencyEndpoint.path:
            (current.kind, current.answer) = (.endpoint, .endpoint)
            guard let emergency = endpoints.emergency else {
                respond(context: context, plan: ResponsePlanner.status(404, "this node does not belong to a fleet"), file: nil,
                        keepAlive: keepAlive, http10: http10)
                return
            }
            state.beginAsync()
            let connection = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            emergency.accept(body: request.body, bodyBytes: request.bodyBytes, peer: context.channel.remoteAddress, on: context.eventLoop)
                .whenSuccess { plan in
                    let (handler, context) = connection.value
                    guard !handler.state.closing, context.channel.isActive else {
                        handler.state.endAsync()
                        return
                    }
                    handler.finishAsync(context: context, plan: plan, outcome: nil, keepAlive: keepAlive, http10: http10)
                }
        default:
            respond(context: context, plan: ResponsePlanner.methodNotAllowed(), file: nil, keepAlive: keepAlive, http10: http10)
        }
    }

    /// Answers a GET or HEAD of a file at hand; `cacheFields` (`X-Cache`, `Age`) on a caching node.
    func serve(context: ChannelHandlerContext, request: HTTPRequestHead, file: OpenedFile, cacheFields: [ResponsePlan.Field]?,
               keepAlive: Bool, http10: Bool) {
        let isHead = request.method == .HEAD
        if edge == nil { current.answer = .local }
        let conditions = Self.conditions(request.headers)
        let selection = conditions.map { ResponsePlanner.select(isHead: isHead, request: $0, representation: file.representation) } ?? .whole
        if !isHead, let media = file.media, settings.views != nil {
            switch selection {
            case .whole:
                pendingView = PendingView(peer: context.channel.remoteAddress, request: request, media: media, bytes: file.representation.length,
                                          size: file.representation.length)
            case .ranges(let ranges):
                pendingView = PendingView(peer: context.channel.remoteAddress, request: request, media: media,
                                          bytes: ranges.reduce(UInt64(0)) { $0 + UInt64($1.count) }, size: file.representation.length)
            default: break
            }
        }
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
        if degraded { ResponseHead.writeField(NodeEndpoints.degradedField.name, NodeEndpoints.degradedField.value, into: &head) }
        ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
        let plan = ResponsePlan(status: partial ? 206 : 200, fields: [], body: .file(range), sendsBody: !isHead)
        send(context: context, head: head, plan: plan, file: file, keepAlive: keepAlive, http10: http10)
    }

    func respond(context: ChannelHandlerContext, plan: ResponsePlan, file: OpenedFile?, keepAlive: Bool, http10: Bool,
                         lingering: Bool = false) {
        var head = ResponseHead.begin(status: plan.status, capacity: 512, allocator: context.channel.allocator)
        ResponseHead.write(plan, into: &head)
        if degraded { ResponseHead.writeField(NodeEndpoints.degradedField.name, NodeEndpoints.degradedField.value, into: &head) }
        ResponseHead.end(&head, keepAlive: keepAlive, http10: http10)
        send(context: context, head: head, plan: plan, file: file, keepAlive: keepAlive, http10: http10, lingering: lingering)
    }

    /// Writes a complete head, then the body the plan names.
    func send(context: ChannelHandlerContext, head: ByteBuffer, plan: ResponsePlan, file: OpenedFile?,
                      keepAlive: Bool, http10: Bool, lingering: Bool = false) {
        var head = head
        headWritten(status: plan.status, bytes: plan.sendsBody ? plan.contentLength : 0)
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
        state.responseWritten(keepAlive: keepAlive)
        if lingering {
            finishRecord(current, finished: DispatchTime.now().uptimeNanoseconds)
            LingeringClose.start(context, after: done)
            return
        }
        responseEnds(context: context, written: done, keepAlive: keepAlive, holding: file?.shared)
    }

    /// Where every response ends, written in one piece or streamed from a fill: once its last byte is written, the
    /// connection uncorks, counts as idle from now, and closes if the write failed, the response was the last one, or
    /// the server is draining. `holding` (a shared file descriptor) stays open until then.
    func responseEnds(context: ChannelHandlerContext, written: EventLoopFuture<Void>, keepAlive: Bool, holding: SharedFile?) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let record = current
        let view = pendingView
        pendingView = nil
        written.whenComplete { result in
            withExtendedLifetime(holding) {}
            let (handler, context) = loopBound.value
            handler.finishRecord(record, finished: DispatchTime.now().uptimeNanoseconds)
            if handler.corked {
                handler.corked = false
                context.channel.setOption(Self.cork, value: 0).whenFailure { _ in }
            }
            let succeeded: Bool
            if case .failure = result { succeeded = false } else { succeeded = true }
            if succeeded, let view, let views = handler.settings.views {
                views.delivered(peer: view.peer, request: view.request, media: view.media, bytes: view.bytes, of: view.size)
            }
            let action = handler.state.responseCompleted(succeeded: succeeded, keepAlive: keepAlive, now: DispatchTime.now().uptimeNanoseconds)
            handler.perform(Step(action: action), context: context)
        }
    }

    /// Starts the record of the request being answered (who asked and what only when an access log is kept).
    private func beginRecord(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        current = ResponseRecord(started: DispatchTime.now().uptimeNanoseconds, kind: ResponseRecord.Kind(uri: head.uri))
        guard accessLog != nil else { return }
        current.request = .init(client: context.channel.remoteAddress?.ipAddress ?? "-", method: head.method.rawValue, uri: head.uri,
                                version: "HTTP/\(head.version.major).\(head.version.minor)", referer: head.headers.first(name: "referer"),
                                userAgent: head.headers.first(name: "user-agent"), time: Date().timeIntervalSince1970)
    }

    /// The response's head is being written now.
    func headWritten(status: Int, bytes: UInt64) {
        current.status = status
        current.bytes = bytes
        current.firstByte = DispatchTime.now().uptimeNanoseconds
    }

    /// A response's last byte was written (or the connection ended it): counted, and logged when an access log is kept.
    func finishRecord(_ record: ResponseRecord, finished: UInt64) {
        metrics.record(record, finished: finished)
        accessLog?.append(record, totalSeconds: Double(finished.elapsed(since: record.started)) / 1e9)
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
            perform(Step(action: state.drainRequested()), context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // A drained write buffer is progress on a long response.
        if context.channel.isWritable { state.becameWritable(now: DispatchTime.now().uptimeNanoseconds) }
        // Back-pressure: a client that pipelines requests but does not read responses stops being read from.
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        if context.channel.isWritable { answerWaiting(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Parser errors: 431 for oversized header fields, 400 for anything malformed; then the connection ends.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        perform(state.parserFailed(headerOverflow: parserError == .headerOverflow), context: context)
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
