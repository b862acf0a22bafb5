import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import TestSupport
@testable import EdgeNode

/// The connection state machine without sockets: every rule of `ConnectionStateMachine`, input by input.
@Suite struct ConnectionStateMachineTests {
    static let second: UInt64 = 1_000_000_000
    static let limits = ConnectionStateMachine.Limits(maximumBodyBytes: 100, maximumWaiting: 2, idleTimeout: 60 * second, sendTimeout: 120 * second)

    static func get(_ uri: String = "/a", version: HTTPVersion = .http1_1, headers: [(String, String)] = [("Host", "x")]) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .GET, uri: uri, headers: HTTPHeaders(headers))
    }

    static func answered(_ step: ConnectionStateMachine.Step) -> ConnectionStateMachine.Request? {
        if case .answer(let request) = step.action { request } else { nil }
    }

    static func refused(_ step: ConnectionStateMachine.Step) -> Int? {
        if case .refuse(let status, _, _) = step.action { status } else { nil }
    }

    static func isClose(_ action: ConnectionStateMachine.Action) -> Bool {
        if case .close = action { true } else { false }
    }

    @Test func aRequestIsAnsweredWhenComplete() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        #expect(Self.answered(machine.receivedHead(Self.get(), now: 1)) == nil)
        #expect(machine.responding)
        let step = machine.receivedEnd(writable: true)
        let request = Self.answered(step)
        #expect(request?.keepAlive == true && request?.http10 == false && !step.stopReading)
        machine.responseWritten(keepAlive: true)
        #expect(!Self.isClose(machine.responseCompleted(succeeded: true, keepAlive: true, now: 5)))
        #expect(!machine.responding && machine.lastActivity == 5 && !machine.closing)
    }

    @Test func theLastResponseOrAFailedWriteClosesTheConnection() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = machine.receivedHead(Self.get(headers: [("Host", "x"), ("Connection", "close")]), now: 1)
        let step = machine.receivedEnd(writable: true)
        #expect(Self.answered(step)?.keepAlive == false && step.stopReading, "stop reading after the last request")
        machine.responseWritten(keepAlive: false)
        #expect(machine.closing)
        #expect(Self.isClose(machine.responseCompleted(succeeded: true, keepAlive: false, now: 2)))
        var other = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = other.receivedHead(Self.get(), now: 1)
        _ = other.receivedEnd(writable: true)
        #expect(Self.isClose(other.responseCompleted(succeeded: false, keepAlive: true, now: 2)))
    }

    @Test func hostFieldsFollowRFC9112() {
        for (headers, version, expected) in [([], HTTPVersion.http1_1, 400), ([("Host", "a"), ("Host", "b")], .http1_1, 400),
                                             ([("Host", "a,b")], .http1_1, 400), ([], .http1_0, 0), ([("host", "a")], .http1_1, 0)] {
            var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
            _ = machine.receivedHead(Self.get(version: version, headers: headers), now: 1)
            let step = machine.receivedEnd(writable: true)
            if expected == 400 {
                #expect(Self.refused(step) == 400 && step.stopReading && machine.closing, "\(headers)")
            } else {
                #expect(Self.answered(step) != nil, "\(headers) \(version)")
            }
        }
    }

    @Test func aBodyEndsTheConnectionAndAnOversizedOneIsRefused() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = machine.receivedHead(Self.get(), now: 1)
        #expect(Self.refused(machine.receivedBody(ByteBuffer(repeating: 1, count: 60))) == nil, "within the limit")
        let step = machine.receivedEnd(writable: true)
        #expect(Self.answered(step)?.keepAlive == false && step.stopReading, "answered, then the connection ends")
        var big = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = big.receivedHead(Self.get(), now: 1)
        _ = big.receivedBody(ByteBuffer(repeating: 1, count: 100))
        let refused = big.receivedBody(ByteBuffer(repeating: 1, count: 1))
        #expect(Self.refused(refused) == 413 && refused.stopReading && big.closing)
        #expect(Self.answered(big.receivedEnd(writable: true)) == nil, "nothing more is answered")
        var chunked = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = chunked.receivedHead(Self.get(headers: [("Host", "x"), ("Transfer-Encoding", "chunked")]), now: 1)
        #expect(Self.answered(chunked.receivedEnd(writable: true))?.keepAlive == false, "an empty chunked body is a body")
    }

    @Test func aPostBodyIsKeptUpToItsLimitAndOtherBodiesOnlyCounted() {
        var limits = Self.limits
        limits.maximumRetainedBody = 8
        var post = ConnectionStateMachine(limits: limits, now: 0)
        _ = post.receivedHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/fleet/emergency", headers: ["Host": "x"]), now: 1)
        _ = post.receivedBody(ByteBuffer(string: "signed"))
        _ = post.receivedBody(ByteBuffer(string: " note!"))
        let request = Self.answered(post.receivedEnd(writable: true))
        #expect(request?.body.map { String(buffer: $0) } == "signed n", "the first 8 bytes kept")
        #expect(request?.bodyBytes == 12 && request?.keepAlive == false, "every byte counted; the connection ends after")
        var get = ConnectionStateMachine(limits: limits, now: 0)
        _ = get.receivedHead(Self.get(), now: 1)
        _ = get.receivedBody(ByteBuffer(string: "junk"))
        let plain = Self.answered(get.receivedEnd(writable: true))
        #expect(plain?.body == nil && plain?.bodyBytes == 4)
        var waiting = ConnectionStateMachine(limits: limits, now: 0)
        _ = waiting.receivedHead(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/p", headers: ["Host": "x"]), now: 1)
        _ = waiting.receivedBody(ByteBuffer(string: "later"))
        #expect(Self.answered(waiting.receivedEnd(writable: false)) == nil, "the client is not reading: it waits")
        #expect(waiting.nextWaiting(writable: true).flatMap { Self.answered($0) }?.body.map { String(buffer: $0) } == "later",
                "a waiting request keeps its body")
    }

    @Test func requestsWaitWhileTheClientDoesNotReadOrAResponseIsAsynchronous() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = machine.receivedHead(Self.get("/1"), now: 1)
        #expect(Self.answered(machine.receivedEnd(writable: true))?.head.uri == "/1")
        machine.beginAsync()
        _ = machine.receivedHead(Self.get("/2"), now: 2)
        #expect(Self.answered(machine.receivedEnd(writable: true)) == nil, "waits for the asynchronous response")
        #expect(machine.nextWaiting(writable: true) == nil, "still busy")
        machine.endAsync()
        #expect(machine.nextWaiting(writable: false) == nil, "the client does not read")
        #expect(machine.nextWaiting(writable: true).flatMap(Self.answered)?.head.uri == "/2", "in arrival order")
        #expect(machine.nextWaiting(writable: true) == nil)
    }

    @Test func aClientPipeliningWithoutReadingIsDropped() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        var actions: [ConnectionStateMachine.Action] = []
        for index in 0..<3 {
            _ = machine.receivedHead(Self.get("/\(index)"), now: 1)
            actions.append(machine.receivedEnd(writable: false).action)
        }
        #expect(!Self.isClose(actions[0]) && !Self.isClose(actions[1]) && Self.isClose(actions[2]), "more than maximumWaiting = 2")
        #expect(machine.closing && machine.nextWaiting(writable: true) == nil)
    }

    @Test func drainingClosesIdleConnectionsAtOnceAndBusyOnesAfterTheResponse() {
        var idle = ConnectionStateMachine(limits: Self.limits, now: 0)
        #expect(Self.isClose(idle.drainRequested()))
        var busy = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = busy.receivedHead(Self.get(), now: 1)
        #expect(!Self.isClose(busy.drainRequested()))
        #expect(Self.answered(busy.receivedEnd(writable: true))?.keepAlive == false, "the response under way is the last")
        #expect(Self.isClose(busy.responseCompleted(succeeded: true, keepAlive: true, now: 2)))
    }

    @Test func parserErrorsAreAnsweredOnce() {
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        let first = machine.parserFailed(headerOverflow: true)
        #expect(Self.refused(first) == 431 && first.stopReading)
        #expect(Self.isClose(machine.parserFailed(headerOverflow: false).action), "a second error only closes")
        var other = ConnectionStateMachine(limits: Self.limits, now: 0)
        #expect(Self.refused(other.parserFailed(headerOverflow: false)) == 400)
    }

    /// Both sides of each timeout: a response is reset only after the send timeout without progress, and a client
    /// that takes bytes at the minimum pace keeps it alive however long; an idle connection closes after the idle
    /// timeout and not before.
    @Test func timeoutsCountProgressNotDuration() {
        let second = Self.second
        var machine = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = machine.receivedHead(Self.get(), now: 0)
        _ = machine.receivedEnd(writable: true)
        #expect(!Self.isReset(machine.checkTimeouts(now: 120 * second, acknowledgedAtPace: false, bytesPending: true)), "at the limit")
        #expect(Self.isReset(machine.checkTimeouts(now: 120 * second + 1, acknowledgedAtPace: false, bytesPending: true)))
        var steady = ConnectionStateMachine(limits: Self.limits, now: 0)
        _ = steady.receivedHead(Self.get(), now: 0)
        _ = steady.receivedEnd(writable: true)
        for minute in 1...10 {
            #expect(!Self.isReset(steady.checkTimeouts(now: UInt64(minute) * 60 * second, acknowledgedAtPace: true, bytesPending: true)))
        }
        steady.becameWritable(now: 700 * second)
        #expect(!Self.isReset(steady.checkTimeouts(now: 819 * second, acknowledgedAtPace: false, bytesPending: true)), "a drained buffer is progress")
        var idle = ConnectionStateMachine(limits: Self.limits, now: 0)
        idle.noteActivity(now: 10 * second)
        #expect(!Self.isClose(idle.checkTimeouts(now: 70 * second, acknowledgedAtPace: false, bytesPending: false)))
        #expect(Self.isClose(idle.checkTimeouts(now: 70 * second + 1, acknowledgedAtPace: false, bytesPending: false)))
        #expect(!Self.isClose(idle.checkTimeouts(now: 70 * second + 1, acknowledgedAtPace: false, bytesPending: true)),
                "bytes still in flight: a response, not idleness")
    }

    static func isReset(_ action: ConnectionStateMachine.Action) -> Bool {
        if case .reset = action { true } else { false }
    }
}

/// `FileRequestHandler` in an `EmbeddedChannel`: the actions the state machine answers become bytes on the wire.
@Suite struct FileRequestHandlerEmbeddedTests {
    static func channel(root: String) throws -> EmbeddedChannel {
        let settings = ServerSettings(listen: SocketAddressSpec(host: "127.0.0.1", port: 0), root: root)
        let store = try ContentStore(root: root, verifier: nil)
        let endpoints = NodeEndpoints(metrics: nil, state: NodeState(name: "n", role: .origin), fleet: nil)
        let handler = FileRequestHandler(store: store, settings: settings, edge: nil, traffic: TrafficMeter(), metrics: DataPlaneMetrics(),
                                         accessLog: nil, endpoints: endpoints, secure: false,
                                         logger: Logger(label: "embedded"))
        let channel = EmbeddedChannel()
        // As the server's pipeline has it: a request decoder; the handler writes the response bytes itself.
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 4000)).wait()
        return channel
    }

    /// Everything written so far, as text.
    static func output(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
        }
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndConnectionCloseEndsIt() throws {
        let root = try TemporaryDirectory("embedded")
        defer { root.remove() }
        try "first".write(toFile: root.path + "/a.txt", atomically: true, encoding: .utf8)
        try "second".write(toFile: root.path + "/b.txt", atomically: true, encoding: .utf8)
        let channel = try Self.channel(root: root.path)
        try channel.writeInbound(ByteBuffer(string: "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /missing HTTP/1.1\r\nHost: x\r\n\r\n"
                                                + "GET /b.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try Self.output(channel)
        let first = try #require(text.range(of: "HTTP/1.1 200 OK"))
        let missing = try #require(text.range(of: "HTTP/1.1 404"))
        let second = try #require(text.range(of: "second"))
        #expect(first.lowerBound < missing.lowerBound && missing.lowerBound < second.lowerBound, "in request order")
        #expect(text.contains("first") && text.lowercased().contains("connection: close"))
        #expect(!channel.isActive, "closed after the response to Connection: close")
    }

    @Test func aMissingHostIsRefusedAndTheConnectionEnds() throws {
        let root = try TemporaryDirectory("embedded")
        defer { root.remove() }
        let channel = try Self.channel(root: root.path)
        try channel.writeInbound(ByteBuffer(string: "GET /a HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try Self.output(channel)
        #expect(text.hasPrefix("HTTP/1.1 400") && text.contains("missing Host header"))
        #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "the request after it is not answered")
    }

    @Test func drainingClosesAnIdleConnection() throws {
        let root = try TemporaryDirectory("embedded")
        defer { root.remove() }
        let channel = try Self.channel(root: root.path)
        channel.pipeline.fireUserInboundEventTriggered(DrainRequest())
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }
}
