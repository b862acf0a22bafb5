import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Every limit from both sides, against a real `edgenode serve`: trickles that used to hold a connection forever are
/// cut at the request deadline, and a slow but steady reader is served to the end.
@Suite struct SlowClientTests {
    static let port = 18_090

    /// A directory with one 4 MiB file: larger than the socket buffers, so a slow reader keeps a response pending.
    static func bigFileRoot() throws -> (TemporaryDirectory, [UInt8]) {
        let directory = try TemporaryDirectory("slow")
        var generator = SeededGenerator(seed: 7)
        let bytes = (0..<(4 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/big.bin"))
        return (directory, bytes)
    }

    static func start(root: String, _ extra: [String]) throws -> ServerProcess {
        let host = LoopbackAddress.next()
        return try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", root, "--listen", "\(host):\(port)", "--threads", "1"] + extra,
                                 host: host, port: port)
    }

    /// Sends `piece` every `interval` until the server answers or closes; returns the answer's status (nil: closed
    /// without one) and how long it took.
    static func drip(_ connection: RawHTTPConnection, prefix: String = "", piece: String, interval: useconds_t, limit: TimeInterval) throws
        -> (status: Int?, seconds: TimeInterval) {
        let started = Date()
        if !prefix.isEmpty { try connection.send(prefix) }
        // Sending only writes to the socket, which is safe beside the reads of this thread.
        nonisolated(unsafe) let sender = connection
        let dripper = Thread {
            while Date().timeIntervalSince(started) < limit {
                if (try? sender.send(piece)) == nil { return }
                usleep(interval)
            }
        }
        dripper.start()
        var status: Int?
        // The first answer may be the complete request's; the one that matters is the last before the close.
        while let response = try? connection.readResponse() { status = response.status }
        return (status, Date().timeIntervalSince(started))
    }

    @Test func emptyLinesDrippedBeforeARequestAreCutAtTheDeadline() throws {
        let (root, _) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, ["--head-timeout", "1"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 8)
        let (status, seconds) = try Self.drip(connection, piece: "\r\n", interval: 100_000, limit: 6)
        #expect(status == 408 && seconds < 3, "answered \(String(describing: status)) after \(seconds) s")
    }

    @Test func aSecondHeadDrippedAfterAChunkedRequestIsNotServedForever() throws {
        let (root, _) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, ["--head-timeout", "1"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 8)
        let chunked = "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        let started = Date()
        try connection.send(chunked)
        #expect(try connection.readResponse()?.status == 200)
        nonisolated(unsafe) let sender = connection
        let dripper = Thread {
            for byte in "GET /healthz HTTP/1.1\r\nHost: x\r\n" where Date().timeIntervalSince(started) < 6 {
                if (try? sender.send(String(byte))) == nil { return }
                usleep(200_000)
            }
        }
        dripper.start()
        #expect(connection.waitForClose() && Date().timeIntervalSince(started) < 3, "closed after \(Date().timeIntervalSince(started)) s")
    }

    @Test func aBodyDrippedByteByByteIsCutAtTheDeadline() throws {
        let (root, _) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, ["--head-timeout", "1"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 8)
        let (status, seconds) = try Self.drip(connection, prefix: "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n",
                                              piece: "a", interval: 100_000, limit: 6)
        #expect(status == 408 && seconds < 3, "answered \(String(describing: status)) after \(seconds) s")
    }

    @Test func aCompleteBodyInTimeIsAnswered() throws {
        let (root, _) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, ["--head-timeout", "2"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 8)
        try connection.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        usleep(500_000)
        try connection.send("56789")
        #expect(try connection.readResponse()?.status == 405)
        #expect(connection.waitForClose(), "a request with a body ends its connection")
    }

    /// The other side: 4 MiB read at ~400 KB/s through a small receive window takes about ten seconds, five times the
    /// send timeout, and arrives whole; a reader that stops is cut off after the send timeout.
    @Test func aSlowSteadyReaderIsServedToTheEndAStalledOneIsCut() throws {
        let (root, bytes) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, ["--send-timeout", "2"])
        let steady = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5, receiveBuffer: 16_384)
        try steady.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let stalled = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5, receiveBuffer: 16_384)
        try stalled.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let started = Date()
        let received = steady.readPaced(bytesPerSecond: 400_000, limit: bytes.count + 4_096, seconds: 40) { received in
            received.firstRange(of: [13, 10, 13, 10]).map { received.count - $0.upperBound >= bytes.count } ?? false
        }
        let head = received.firstRange(of: [13, 10, 13, 10]).map { received[..<$0.upperBound] } ?? []
        let body = Array(received.dropFirst(head.count))
        #expect(body.count == bytes.count && body == bytes, "\(body.count) of \(bytes.count) bytes after \(Date().timeIntervalSince(started)) s")
        #expect(Date().timeIntervalSince(started) > 4, "slow enough to have outlived the send timeout twice")
        // The stalled reader has been silent all along: the server gave up on it long ago.
        let rest = stalled.readPaced(bytesPerSecond: 50_000_000, limit: bytes.count + 4_096, seconds: 10)
        #expect(stalled.peerClosed && rest.count < bytes.count, "the stalled reader got \(rest.count) bytes and the connection stayed open")
    }

    @Test func hostIsRequiredOnceInHTTP11AndATrailingSlashOnAFileIs404() throws {
        let (root, _) = try Self.bigFileRoot()
        defer { root.remove() }
        let server = try Self.start(root: root.path, [])
        for (request, expected) in [("GET /big.bin HTTP/1.1\r\n\r\n", 400),
                                    ("GET /big.bin HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
                                    ("HEAD /big.bin HTTP/1.0\r\n\r\n", 200),
                                    ("HEAD /big.bin HTTP/1.1\r\nHost: a\r\n\r\n", 200),
                                    ("HEAD /big.bin/ HTTP/1.1\r\nHost: a\r\n\r\n", 404)] {
            let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5)
            try connection.send(request)
            let response = try connection.readResponse(bodyExpected: !request.hasPrefix("HEAD") || expected == 400)
            #expect(response?.status == expected, "\(request.debugDescription)")
            if expected == 400 { #expect(connection.waitForClose()) }
        }
    }
}
