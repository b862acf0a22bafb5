import Dispatch
import Foundation
import Gossip
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The UDP shell around `GossipCore`: one event loop of its own (so a busy data plane cannot delay acks into false
/// suspicions), every datagram sealed with the cluster keyring and opened with replay protection, timers as the
/// core asks, health sampled every second, the keyring file re-read when it changes, a graceful leave on shutdown.
public final class GossipService: Service, Sendable {
    private let settings: GossipNodeSettings
    private let health: @Sendable () -> NodeHealth
    private let logger: Logger
    private let state = NIOLockedValueBox<ClusterSnapshot?>(nil)

    /// `health` is sampled every second on the gossip thread.
    public init(settings: GossipNodeSettings, health: @escaping @Sendable () -> NodeHealth, logger: Logger) {
        self.settings = settings
        self.health = health
        self.logger = logger
    }

    /// The latest view of the cluster (nil before the service runs).
    public func snapshot() -> ClusterSnapshot? { state.withLockedValue { $0 } }

    public func run() async throws {
        let keyring = try KeyringFile.load(settings.keyringPath)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let settings = settings, logger = logger, health = health, state = state
        do {
            let shell = try await eventLoop.submit {
                GossipShell(settings: settings, keyring: keyring, eventLoop: eventLoop, health: health, logger: logger, publish: { snapshot in
                    state.withLockedValue { $0 = snapshot }
                })
            }.get()
            // No SO_REUSEADDR: a second process for the same node must fail to bind, not share the port silently.
            let bootstrap = DatagramBootstrap(group: eventLoop)
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(GossipInboundHandler(shell: shell))
                    }
                }
            let channel: Channel
            do {
                channel = try await bootstrap.bind(host: settings.me.gossip.host, port: Int(settings.me.gossip.port)).get()
            } catch {
                throw ListenError(service: "gossip", address: "\(settings.me.gossip)", underlying: error)
            }
            try await eventLoop.submit { shell.start(channel: channel) }.get()
            logger.info("gossip started", metadata: ["gossip": "\(settings.me.gossip)", "fleet": "\(settings.fleet.count + 1)",
                                                     "seeds": "\(settings.seeds.count)"])
            // Graceful shutdown leaves the cluster; cancellation (another service failed at start) closes at once.
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await channel.closeFuture.get()
                } onGracefulShutdown: {
                    eventLoop.execute { shell.leave() }
                }
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }
}

/// Datagrams in.
private final class GossipInboundHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let shell: GossipShell

    init(shell: GossipShell) { self.shell = shell }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        shell.receive(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A datagram error (e.g. ICMP port unreachable) concerns one peer, not the socket.
        shell.noteSocketError(error)
    }
}
