import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NodeTLS

/// A minimal HTTP/1.1 client for the control API (one request per connection), over TLS when given `tls` (the
/// server's certificate verified against the fleet CA or the system's roots, and against the host connected to),
/// used by nodes' delivery reports, the CLI and the tests. Responses are bounded by `limit` bytes.
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
        /// The TLS handshake failed; the reason in words.
        case tls(String)

        public var description: String {
            switch self {
            case .badURL(let url): "\"\(url)\" is not an http://host:port or https://host:port URL"
            case .tooLarge(let limit): "the response exceeds \(limit) bytes"
            case .incomplete: "the connection closed before the response was complete"
            case .tls(let reason): "TLS handshake failed: \(reason)"
            }
        }
    }

    public let host: String
    public let port: Int
    public var token: String?
    /// TLS settings (trust roots) when the API is reached over HTTPS.
    public let tls: ClientTLS?
    public var timeout: TimeAmount = .seconds(30)
    public var limit = 1 << 30

    public init(host: String, port: Int, token: String?, tls: ClientTLS? = nil) {
        self.host = host
        self.port = port
        self.token = token
        self.tls = tls
    }

    /// `http://host:port` or `https://host:port` (a trailing `/` is allowed); an https URL's certificate is verified
    /// against `certificateAuthority` (a PEM file), or against the system's roots without one.
    public init(url: String, token: String?, certificateAuthority: String? = nil) throws {
        var rest = Substring(url)
        let secure = rest.hasPrefix("https://")
        guard secure || rest.hasPrefix("http://") else { throw ClientError.badURL(url) }
        rest = rest.dropFirst(secure ? 8 : 7)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port),
              !rest[..<colon].isEmpty, !rest.contains("/") else { throw ClientError.badURL(url) }
        var host = rest[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        self.init(host: String(host), port: port, token: token, tls: secure ? try ClientTLS.trusting(certificateAuthority) : nil)
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
        let tls = self.tls
        let serverHostname = ClientTLS.serverHostname(for: host)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls.context, serverHostname: serverHostname))
                        }
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
        // A write fails only when the connection closes; the promise then holds why (a failed TLS handshake, say).
        try? await channel.writeAndFlush(HTTPClientRequestPart.end(nil))
        do {
            return try await promise.futureResult.get()
        } catch let error as NIOSSLError {
            throw ClientError.tls(Self.describe(error, host: host))
        } catch let error as NIOSSLExtraError {
            throw ClientError.tls("\(error)")
        }
    }

    /// A handshake failure in words: an untrusted certificate, one naming another host, a server not speaking TLS.
    static func describe(_ error: NIOSSLError, host: String) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted (it does not chain to the CA given, or does not name \(host))"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "the server does not speak TLS there (try http://)"
        }
        return text
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
