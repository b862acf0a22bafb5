import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NodeTLS

/// A parent a node fills from: its name in `nodes.conf`, its HTTP (or, with the fleet CA, HTTPS) address, and whether
/// it is a mesh peer (asked only for what it already holds).
public struct ParentAddress: Sendable, Equatable {
    public let name: String
    public let address: SocketAddressSpec
    public let isPeer: Bool
    /// Set when fills go over HTTPS (`address` is then the parent's `https`): the fleet CA that verifies it.
    public let tls: ClientTLS?

    public init(name: String, address: SocketAddressSpec, isPeer: Bool, tls: ClientTLS? = nil) {
        self.name = name
        self.address = address
        self.isPeer = isPeer
        self.tls = tls
    }

    public static func == (lhs: ParentAddress, rhs: ParentAddress) -> Bool {
        lhs.name == rhs.name && lhs.address == rhs.address && lhs.isPeer == rhs.isPeer && (lhs.tls == nil) == (rhs.tls == nil)
    }
}

/// Why a request to a parent did not deliver what was asked.
enum ParentFetchError: Error, Equatable, CustomStringConvertible {
    case connect(String)
    /// No bytes for the read timeout (or the connect timeout).
    case timeout
    /// A status other than the one expected.
    case status(Int)
    /// The response does not describe the bytes asked for (Content-Range, length).
    case unexpected(String)
    /// The connection ended before the response did.
    case closedEarly
    /// The response is larger than allowed.
    case tooLarge
    /// The caller stopped the transfer (it rejected the data).
    case aborted

    var description: String {
        switch self {
        case .connect(let reason): "cannot connect: \(reason)"
        case .timeout: "timed out"
        case .status(let code): "answered \(code)"
        case .unexpected(let reason): "unexpected response: \(reason)"
        case .closedEarly: "connection closed before the response ended"
        case .tooLarge: "response too large"
        case .aborted: "aborted"
        }
    }

    /// The `reason` label of the parent-failure counter.
    var metricReason: String {
        switch self {
        case .timeout: "timeout"
        case .status: "status"
        case .closedEarly: "truncated"
        case .tooLarge, .unexpected: "unexpected"
        case .connect, .aborted: "error"
        }
    }

    /// Whether the failure says something about the parent's health (a peer's 504 "not cached" or a 404 does not).
    var marksParentBad: Bool {
        switch self {
        case .status(404), .status(504), .aborted: false
        default: true
        }
    }
}

/// One HTTP/1.1 GET to a parent over its own connection, streamed: the head, then body buffers as they arrive, then
/// exactly one end callback. Every callback runs on `eventLoop`. Requests carry `Via` with the node's name, the
/// fleet's proof that a node sent them (`FleetRequestAuth`) and, to a mesh peer, `Cache-Control: only-if-cached`.
final class ParentFetch {
    struct Request {
        var path: String
        var range: Range<Int64>?
        var extraHeaders: [(String, String)] = []
        /// The whole exchange must end within this (a parent trickling a byte now and then never trips the read
        /// timeout); nil for object fills, whose waiting viewers are bounded by the fill coordinator instead.
        var deadline: TimeAmount?
    }

    /// Return false to abort.
    typealias OnHead = (HTTPResponseHead) -> Bool
    /// Return false to abort.
    typealias OnBody = (ByteBuffer) -> Bool
    typealias OnEnd = (ParentFetchError?) -> Void

    static func start(on eventLoop: EventLoop, parent: ParentAddress, request: Request, identity: FleetIdentity, timeout: TimeAmount,
                      onHead: @escaping OnHead, onBody: @escaping OnBody, onEnd: @escaping OnEnd) {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: request.path)
        head.headers.add(name: "Host", value: parent.address.description)
        head.headers.add(name: "Via", value: "1.1 \(identity.node)")
        if let proof = identity.proof(request.path) { head.headers.add(name: FleetRequestAuth.field, value: proof) }
        head.headers.add(name: "Connection", value: "close")
        if let range = request.range { head.headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)") }
        if parent.isPeer { head.headers.add(name: "Cache-Control", value: "only-if-cached") }
        for (name, value) in request.extraHeaders { head.headers.add(name: name, value: value) }
        let handler = ParentFetchHandler(request: head, deadline: request.deadline, onHead: onHead, onBody: onBody, onEnd: onEnd)
        let bound = NIOLoopBound(handler, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Over HTTPS the parent's certificate must chain to the fleet CA and name the address connected to.
                    if let tls = parent.tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls.context, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: timeout))
                    try channel.pipeline.syncOperations.addHandler(bound.value)
                }
            }
            .connect(host: parent.address.host, port: parent.address.port)
            .whenFailure { error in
                let reason = (error as? ChannelError) == .connectTimeout(timeout) ? ParentFetchError.timeout : .connect("\(error)")
                bound.value.finish(reason, context: nil)
            }
    }
}

private final class ParentFetchHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let deadline: TimeAmount?
    private let onHead: ParentFetch.OnHead
    private let onBody: ParentFetch.OnBody
    private let onEnd: ParentFetch.OnEnd
    private var ended = false

    init(request: HTTPRequestHead, deadline: TimeAmount?, onHead: @escaping ParentFetch.OnHead, onBody: @escaping ParentFetch.OnBody,
         onEnd: @escaping ParentFetch.OnEnd) {
        self.request = request
        self.deadline = deadline
        self.onHead = onHead
        self.onBody = onBody
        self.onEnd = onEnd
    }

    func channelActive(context: ChannelHandlerContext) {
        if let deadline {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: deadline) {
                let (handler, context) = bound.value
                handler.finish(.timeout, context: context)
            }
        }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if !onHead(head) { finish(.aborted, context: context) }
        case .body(let buffer):
            if !onBody(buffer) { finish(.aborted, context: context) }
        case .end:
            finish(nil, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            finish(.timeout, context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.closedEarly, context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // The response decoder reports a connection that ended mid-body as an error.
        finish(error as? HTTPParserError == .invalidEOFState ? .closedEarly : .unexpected("\(error)"), context: context)
    }

    /// Ends the fetch once: reports the outcome and closes the connection.
    func finish(_ error: ParentFetchError?, context: ChannelHandlerContext?) {
        guard !ended else { return }
        ended = true
        context?.close(promise: nil)
        onEnd(error)
    }
}
