import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One parsed HTTP/1.x response.
public struct RawResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A blocking TCP client that speaks HTTP/1.x by hand, so tests can send exactly the bytes they mean (malformed,
/// pipelined, slow) and read exactly what the server sent.
public final class RawHTTPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []
    public private(set) var peerClosed = false

    /// Connects to an IPv4 `host:port`, with a receive timeout; `receiveBuffer` shrinks the socket's receive buffer
    /// (set before connecting, so the window stays small and the server feels a slow reader at once); `source` binds
    /// the client to a local address first (every 127.0.0.N is local: a viewer in whatever zone lists it).
    public init(host: String, port: Int, timeout: TimeInterval = 10, receiveBuffer: Int32? = nil, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.io("socket: \(String(cString: strerror(errno)))") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        if let source {
            guard IPv4Address.with(source, 0, { bind(fd, $0, $1) }) == 0 else {
                throw RawHTTPError.io("bind \(source): \(String(cString: strerror(errno)))")
            }
        }
        let connected = IPv4Address.with(host, port) { connect(fd, $0, $1) }
        // On failure, deinit closes the descriptor (it runs for a fully initialised instance that throws).
        guard connected == 0 else { throw RawHTTPError.io("connect \(host):\(port): \(String(cString: strerror(errno)))") }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { Glibc.close(fd) }

    /// Sends bytes (all of them).
    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawHTTPError.io("send: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    /// Reads one response; `bodyExpected` is false for HEAD. Nil when the server closed the connection first.
    public func readResponse(bodyExpected: Bool = true) throws -> RawResponse? {
        guard let headEnd = try fill(until: { $0.firstRange(of: [13, 10, 13, 10])?.upperBound }) else { return nil }
        let headText = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
        buffer.removeFirst(headEnd)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw RawHTTPError.malformed(headText) }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = RawResponse(status: status, headers: headers, body: [])
        if !bodyExpected || status == 204 || status == 304 || status < 200 {
            return response
        }
        if let lengthText = response.header("content-length"), let length = Int(lengthText) {
            guard try fill(until: { $0.count >= length ? length : nil }) != nil else { throw RawHTTPError.truncated(length, buffer.count) }
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)
            return RawResponse(status: status, headers: headers, body: body)
        }
        _ = try fill(until: { _ in nil })
        let body = buffer
        buffer.removeAll()
        return RawResponse(status: status, headers: headers, body: body)
    }

    /// Reads one GET response even when the server cuts it short: the body holds what arrived before the connection
    /// closed, and `complete` says whether it is all that Content-Length announced.
    public func readPossiblyTruncatedResponse() throws -> (response: RawResponse, complete: Bool)? {
        guard let head = try readResponse(bodyExpected: false) else { return nil }
        guard let length = head.header("content-length").flatMap(Int.init) else { throw RawHTTPError.malformed("no Content-Length") }
        let available = try fill(until: { $0.count >= length ? length : nil }) ?? buffer.count
        let body = Array(buffer[..<available])
        buffer.removeFirst(available)
        return (RawResponse(status: head.status, headers: head.headers, body: body), available == length)
    }

    /// Reads at about `bytesPerSecond` (a slice every 100 ms) until `limit` bytes, `done` says so, the peer closes, or
    /// `seconds` pass; returns the bytes read (what was buffered already included).
    public func readPaced(bytesPerSecond: Int, limit: Int, seconds: TimeInterval, done: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        var received = buffer
        buffer = []
        let end = Date().addingTimeInterval(seconds)
        let slice = max(1, bytesPerSecond / 10)
        while received.count < limit && !peerClosed && Date() < end && !done(received) {
            var chunk = [UInt8](repeating: 0, count: min(slice, limit - received.count))
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 {
                if n == 0 || errno == ECONNRESET { peerClosed = true }
                continue
            }
            received.append(contentsOf: chunk[..<n])
            usleep(100_000)
        }
        return received
    }

    /// Whether the server closes the connection within the receive timeout (any unread bytes are discarded).
    public func waitForClose() -> Bool {
        while !peerClosed {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { peerClosed = true } else if n < 0 { return errno == ECONNRESET }
        }
        return true
    }

    /// Reads until `done` returns a value or the peer closes; nil when it closed before.
    private func fill(until done: ([UInt8]) -> Int?) throws -> Int? {
        while true {
            if let result = done(buffer) { return result }
            if peerClosed { return nil }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { peerClosed = true; continue }
            if n < 0 {
                if errno == ECONNRESET { peerClosed = true; continue }
                throw RawHTTPError.io("recv: \(String(cString: strerror(errno)))")
            }
            buffer.append(contentsOf: chunk[..<n])
        }
    }

    /// One request on a fresh connection: `GET path` with extra header lines.
    public static func get(_ host: String, _ port: Int, _ path: String, method: String = "GET", headers: [String] = [],
                           source: String? = nil) throws -> RawResponse {
        let connection = try RawHTTPConnection(host: host, port: port, source: source)
        try connection.send("\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n" + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n")
        guard let response = try connection.readResponse(bodyExpected: method != "HEAD") else { throw RawHTTPError.closed }
        return response
    }
}

extension RawHTTPConnection {
    /// `POST path` with `body` on a fresh connection.
    public static func post(_ host: String, _ port: Int, _ path: String, body: [UInt8], source: String? = nil) throws -> RawResponse {
        let connection = try RawHTTPConnection(host: host, port: port, source: source)
        try connection.send("POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\n"
                            + "Connection: close\r\n\r\n")
        try connection.send(body)
        guard let response = try connection.readResponse() else { throw RawHTTPError.closed }
        return response
    }
}

public enum RawHTTPError: Error, CustomStringConvertible {
    case io(String)
    case malformed(String)
    case truncated(Int, Int)
    case closed

    public var description: String {
        switch self {
        case .io(let message): message
        case .malformed(let head): "malformed response head: \(head)"
        case .truncated(let expected, let got): "body truncated: expected \(expected) bytes, got \(got)"
        case .closed: "connection closed before a response"
        }
    }
}
