import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP relay between a caching node and its parent that stands in for a corrupt, slow or dying parent. It records
/// every request line it relays and, for requests whose path contains `Fault.pathContains`, can flip one body byte,
/// cut the body short, hold the response back, or stall mid-body. One request per connection (fills send
/// `Connection: close`).
final class ParentProxy: Sendable {
    struct Fault: Sendable {
        enum Kind: Sendable {
            case flipByte(bodyOffset: Int)
            case truncate(afterBodyBytes: Int)
            case delay(milliseconds: Int64)
            case stall(afterBodyBytes: Int)
            /// The head at once, then the body one byte per interval: never silent long enough for a read timeout.
            case trickle(intervalMilliseconds: Int64)
        }
        var kind: Kind
        var pathContains: String
    }

    let host: String
    let port: Int
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: Channel
    private let state = NIOLockedValueBox<(fault: Fault?, paths: [String], forwardedBodyBytes: Int)>((nil, [], 0))

    init(listen host: String, port: Int, upstreamHost: String, upstreamPort: Int) throws {
        self.host = host
        self.port = port
        let state = state
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { client in
                client.eventLoop.makeCompletedFuture {
                    try client.pipeline.syncOperations.addHandler(ClientSide(upstreamHost: upstreamHost, upstreamPort: upstreamPort, state: state))
                }
            }
            .bind(host: host, port: port).wait()
    }

    deinit {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    var fault: Fault? {
        get { state.withLockedValue { $0.fault } }
        set { state.withLockedValue { $0.fault = newValue } }
    }

    /// Request lines relayed so far whose path contains `fragment`.
    func requests(containing fragment: String) -> Int {
        state.withLockedValue { $0.paths.filter { $0.contains(fragment) }.count }
    }

    /// Body bytes relayed for faulted requests.
    var forwardedBodyBytes: Int { state.withLockedValue { $0.forwardedBodyBytes } }

    private final class ClientSide: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let upstreamHost: String
        let upstreamPort: Int
        let state: NIOLockedValueBox<(fault: Fault?, paths: [String], forwardedBodyBytes: Int)>
        var upstream: Channel?
        var pending: [ByteBuffer] = []
        var fault: Fault?
        var recorded = false

        init(upstreamHost: String, upstreamPort: Int, state: NIOLockedValueBox<(fault: Fault?, paths: [String], forwardedBodyBytes: Int)>) {
            self.upstreamHost = upstreamHost
            self.upstreamPort = upstreamPort
            self.state = state
        }

        func channelActive(context: ChannelHandlerContext) {
            let client = context.channel
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            ClientBootstrap(group: context.eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UpstreamSide(client: client, owner: loopBound.value.0))
                    }
                }
                .connect(host: upstreamHost, port: upstreamPort)
                .whenComplete { result in
                    let (handler, context) = loopBound.value
                    switch result {
                    case .success(let channel):
                        handler.upstream = channel
                        for buffer in handler.pending { channel.writeAndFlush(buffer, promise: nil) }
                        handler.pending = []
                        context.read()
                    case .failure:
                        context.close(promise: nil)
                    }
                }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            if !recorded, let line = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes)?.split(separator: "\r\n").first {
                recorded = true
                let path = String(line)
                fault = state.withLockedValue { state in
                    state.paths.append(path)
                    return state.fault.flatMap { path.contains($0.pathContains) ? $0 : nil }
                }
            }
            if let upstream { upstream.writeAndFlush(buffer, promise: nil) } else { pending.append(buffer) }
        }

        func channelReadComplete(context: ChannelHandlerContext) { context.read() }

        func channelInactive(context: ChannelHandlerContext) { upstream?.close(promise: nil) }

        func addForwarded(_ count: Int) { state.withLockedValue { $0.forwardedBodyBytes += count } }
    }

    private final class UpstreamSide: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer

        let client: Channel
        let owner: ClientSide
        var head: [UInt8] = []
        var bodyOffset: Int?
        var started = false
        var stalled = false
        /// Writes held back by a delay fault, and whether the upstream closed meanwhile.
        var held: [ByteBuffer]?
        var closeWhenReleased = false

        init(client: Channel, owner: ClientSide) {
            self.client = client
            self.owner = owner
        }

        /// Bytes waiting to be trickled out, and the task doing it.
        var trickled: [UInt8] = []
        var trickling: RepeatedTask?

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = Array(unwrapInboundIn(data).readableBytesView)
            guard !stalled else { return }
            var bodyStart = 0
            if bodyOffset == nil {
                head += bytes
                guard let end = head.firstRange(of: [13, 10, 13, 10])?.upperBound else { return }
                bodyOffset = 0
                bytes = head
                bodyStart = end
                head = []
            }
            let bodyBytes = bytes.count - bodyStart
            let before = bodyOffset!
            bodyOffset = before + bodyBytes
            var cut: Int?
            switch owner.fault?.kind {
            case .flipByte(let offset)?:
                if offset >= before && offset < before + bodyBytes { bytes[bodyStart + offset - before] ^= 0x01 }
            case .truncate(let limit)?, .stall(let limit)?:
                if before + bodyBytes > limit { cut = bodyStart + max(0, limit - before) }
            case .delay, .trickle, nil:
                break
            }
            if case .trickle(let milliseconds)? = owner.fault?.kind {
                client.writeAndFlush(client.allocator.buffer(bytes: bytes[..<bodyStart]), promise: nil)
                trickled += bytes[bodyStart...]
                guard trickling == nil else { return }
                let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
                trickling = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(milliseconds)) { task in
                    let side = loopBound.value
                    guard !side.trickled.isEmpty, side.client.isActive else {
                        task.cancel()
                        return
                    }
                    side.client.writeAndFlush(side.client.allocator.buffer(bytes: [side.trickled.removeFirst()]), promise: nil)
                }
                return
            }
            if owner.fault != nil { owner.addForwarded(max(0, (cut ?? bytes.count) - bodyStart)) }
            let out = client.allocator.buffer(bytes: bytes[..<(cut ?? bytes.count)])
            if case .delay(let milliseconds)? = owner.fault?.kind, !started {
                started = true
                held = [out]
                let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) { loopBound.value.release() }
            } else if held != nil {
                held!.append(out)
            } else {
                client.writeAndFlush(out, promise: nil)
            }
            if cut != nil {
                if case .truncate? = owner.fault?.kind {
                    client.close(promise: nil)
                    context.close(promise: nil)
                } else {
                    stalled = true
                }
            }
        }

        func release() {
            for buffer in held ?? [] { client.write(buffer, promise: nil) }
            client.flush()
            held = nil
            if closeWhenReleased { client.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if trickling != nil { return }
            if held != nil {
                closeWhenReleased = true
            } else if !stalled {
                client.close(promise: nil)
            }
        }
    }
}
