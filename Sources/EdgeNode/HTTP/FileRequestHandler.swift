import HTTPSemantics
import Logging
import NIOCore
import NIOHTTP1

/// Answers GET, HEAD and OPTIONS for files under the content root, following the plan `ResponsePlanner` makes:
/// small files from memory, everything else with sendfile (`FileRegion`), multipart ranges as alternating
/// buffers and file regions. One instance per connection; requests arrive one at a time (pipelining is serialised
/// by `HTTPServerPipelineHandler`).
final class FileRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let store: ContentStore
    private let settings: ServerSettings
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var responding = false
    private var draining = false
    private var refused = false

    init(store: ContentStore, settings: ServerSettings, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            bodyBytes = 0
            responding = true
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > settings.maxBodyBytes, let requestHead = head {
                refused = true
                context.pipeline.fireUserInboundEventTriggered(StopReading())
                respond(context: context, request: requestHead,
                        plan: ResponsePlanner.status(413, "request body too large"), file: nil, keepAlive: false, lingering: true)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            handle(context: context, request: requestHead)
        }
    }

    private func handle(context: ChannelHandlerContext, request: HTTPRequestHead) {
        // A request that carried a body is answered, then the connection is not reused.
        let keepAlive = request.isKeepAlive && !draining && bodyBytes == 0
        switch request.method {
        case .GET, .HEAD:
            let isHead = request.method == .HEAD
            if request.uri == "/healthz" {
                respond(context: context, request: request, plan: ResponsePlanner.status(200, "ok", isHead: isHead), file: nil, keepAlive: keepAlive)
                return
            }
            guard let components = RequestPath.components(of: request.uri[...]), let file = store.open(components) else {
                respond(context: context, request: request, plan: ResponsePlanner.status(404, "not found", isHead: isHead), file: nil, keepAlive: keepAlive)
                return
            }
            let headers = request.headers
            let conditions = ConditionalRequest(
                range: headers.first(name: "range"), ifRange: headers.first(name: "if-range"),
                ifMatch: Self.joined(headers, "if-match"), ifNoneMatch: Self.joined(headers, "if-none-match"),
                ifModifiedSince: headers.first(name: "if-modified-since"),
                ifUnmodifiedSince: headers.first(name: "if-unmodified-since"))
            let plan = ResponsePlanner.plan(isHead: isHead, request: conditions, representation: file.representation,
                                            boundary: Self.makeBoundary())
            respond(context: context, request: request, plan: plan, file: file, keepAlive: keepAlive)
        case .OPTIONS:
            respond(context: context, request: request, plan: ResponsePlanner.preflight(), file: nil, keepAlive: keepAlive)
        default:
            respond(context: context, request: request, plan: ResponsePlanner.methodNotAllowed(), file: nil, keepAlive: keepAlive)
        }
    }

    private static func joined(_ headers: HTTPHeaders, _ name: String) -> String? {
        let values = headers[name]
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    private static func makeBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        return "edgenode-" + String(generator.next() as UInt64, radix: 16)
    }

    private func respond(context: ChannelHandlerContext, request: HTTPRequestHead, plan: ResponsePlan, file: OpenedFile?,
                         keepAlive: Bool, lingering: Bool = false) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(plan.fields.count + 6)
        for field in plan.fields { headers.add(name: field.name, value: field.value) }
        for field in ResponsePlanner.corsFields { headers.add(name: field.name, value: field.value) }
        headers.add(name: "Date", value: DateHeader.current())
        if plan.status != 304 && plan.status != 204 {
            headers.add(name: "Content-Length", value: String(plan.contentLength))
        }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version.major == 1 && request.version.minor == 0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let version = request.version.major == 1 && request.version.minor == 0 ? request.version : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: plan.status), headers: headers))),
                      promise: nil)
        if plan.sendsBody { writeBody(context: context, plan: plan, file: file) }
        let handle = file?.handle
        if lingering {
            LingeringClose.start(context, after: context.writeAndFlush(wrapOutboundOut(.end(nil))))
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { result in
            try? handle?.close()
            let (handler, context) = loopBound.value
            handler.responding = false
            let failed: Bool
            if case .failure = result { failed = true } else { failed = false }
            if failed || !keepAlive || handler.draining {
                context.close(promise: nil)
            }
        }
    }

    private func writeBody(context: ChannelHandlerContext, plan: ResponsePlan, file: OpenedFile?) {
        switch plan.body {
        case .empty:
            break
        case .text(let text):
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        case .file(let range):
            if let file { writeRange(context: context, file: file, range: range) }
        case .multipart(let parts, let closing):
            guard let file else { return }
            for part in parts {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: part.head)))), promise: nil)
                writeRange(context: context, file: file, range: part.range)
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: closing)))), promise: nil)
        }
    }

    private func writeRange(context: ChannelHandlerContext, file: OpenedFile, range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        if let bytes = file.bytes {
            let slice = bytes.getSlice(at: bytes.readerIndex + Int(range.lowerBound), length: Int(range.upperBound - range.lowerBound))!
            context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
        } else if let handle = file.handle {
            let region = FileRegion(fileHandle: handle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound))
            context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainRequest {
            draining = true
            if !responding { context.close(promise: nil) }
        } else if let idle = event as? IdleStateHandler.IdleStateEvent {
            // Idle between requests, or a response that stopped making progress: either way, let it go.
            if idle == .read && !responding || idle == .write && responding {
                context.close(promise: nil)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Back-pressure: a client that pipelines requests but does not read responses stops being read from.
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
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

import NIOPosix
#if canImport(Glibc)
import Glibc
#endif
