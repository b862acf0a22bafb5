import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client for the control API (one request per connection), used by `edgenode ledger verify`
/// against a live node and by the tests. Responses are bounded by `limit` bytes.
public struct ControlClient: Sendable {
    /// A response: status, headers (lower-cased names) and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data
    }

    public enum ClientError: Error, CustomStringConvertible {
        case badURL(String)
        case tooLarge(Int)
        case incomplete

        public var description: String {
            switch self {
            case .badURL(let url): "\"\(url)\" is not an http://host:port URL"
            case .tooLarge(let limit): "the response exceeds \(limit) bytes"
            case .incomplete: "the connection closed before the response was complete"
            }
        }
    }

    public let host: String
    public let port: Int
    public var token: String?
    public var timeout: TimeAmount = .seconds(30)
    public var limit = 1 << 30

    public init(host: String, port: Int, token: String?) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// `http://host:port` (a trailing `/` is allowed).
    public init(url: String, token: String?) throws {
        var rest = Substring(url)
        guard rest.hasPrefix("http://") else { throw ClientError.badURL(url) }
        rest = rest.dropFirst(7)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port),
              !rest[..<colon].isEmpty, !rest.contains("/") else { throw ClientError.badURL(url) }
        self.init(host: String(rest[..<colon]), port: port, token: token)
    }

    public func get(_ path: String) async throws -> Response {
        try await send(method: .GET, path: path, body: nil)
    }

    public func post(_ path: String, json: Data?) async throws -> Response {
        try await send(method: .POST, path: path, body: json)
    }

    public func send(method: HTTPMethod, path: String, body: Data?, headers extra: [(String, String)] = []) async throws -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        if let token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        }
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Response.self)
        let limit = self.limit
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(Collector(promise: promise, limit: limit))
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            // No channel, so no handler will ever complete the promise.
            promise.fail(error)
            throw error
        }
        let timeout = channel.eventLoop.scheduleTask(in: self.timeout) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        return try await promise.futureResult.get()
    }

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPClientResponsePart
        let promise: EventLoopPromise<Response>
        let limit: Int
        var response: Response?
        var done = false

        init(promise: EventLoopPromise<Response>, limit: Int) {
            self.promise = promise
            self.limit = limit
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                response = Response(status: Int(head.status.code), headers: headers, body: Data())
            case .body(let buffer):
                response?.body.append(contentsOf: buffer.readableBytesView)
                if (response?.body.count ?? 0) > limit { finish(.failure(ClientError.tooLarge(limit)), context: context) }
            case .end:
                if let response { finish(.success(response), context: context) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(ClientError.incomplete), context: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(.failure(error), context: context)
        }

        private func finish(_ result: Result<Response, any Error>, context: ChannelHandlerContext?) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
            context?.close(promise: nil)
        }
    }
}
