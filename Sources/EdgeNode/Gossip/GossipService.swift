import Dispatch
import Foundation
import Gossip
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The UDP shell around `GossipCore`: one event loop of its own (so a busy data plane cannot delay acks into false
/// suspicions), every datagram sealed with the cluster keyring and opened with replay protection, timers as the
/// core asks, health sampled every second, the keyring file re-read when it changes, a graceful leave on shutdown.
public final class GossipService: Service, Sendable {
    private let settings: GossipNodeSettings
    private let health: @Sendable () -> NodeHealth
    private let logger: Logger
    private typealias State = (view: ClusterView?, subscribers: [Int: AsyncStream<ClusterView>.Continuation], next: Int, generation: UInt64)
    private let state = NIOLockedValueBox<State>((nil, [:], 0, 0))
    /// The running shell and its event loop (nil before the service runs and after it stopped).
    private let running = NIOLockedValueBox<(shell: GossipShell, eventLoop: EventLoop)?>(nil)
    /// Set once a seed's whole state has been merged.
    private let joined = Atomic<Bool>(false)

    /// `health` is sampled every second on the gossip thread.
    public init(settings: GossipNodeSettings, health: @escaping @Sendable () -> NodeHealth, logger: Logger) {
        self.settings = settings
        self.health = health
        self.logger = logger
    }

    /// Waits until this node has merged a seed's whole state (members and cluster records, so the emergency mode in
    /// force) or `timeout` passed; true when it joined. A node whose only seed is itself has nothing to wait for.
    public func awaitJoined(timeout: Duration) async -> Bool {
        let others = settings.seeds.filter { $0 != settings.me.gossip }
        guard !others.isEmpty else { return true }
        let deadline = ContinuousClock.now + timeout
        while !joined.load(ordering: .acquiring) {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return true
    }

    /// The latest view of the cluster (nil before the service runs).
    public func view() -> ClusterView? { state.withLockedValue { $0.view } }

    /// Counts the views that differed in membership, status, incarnation or records (what `changes()` reports): a
    /// decision taken under one generation holds until the next.
    public func generation() -> UInt64 { state.withLockedValue { $0.generation } }

    /// The latest view rendered for `/cluster` (nil before the service runs).
    public func snapshot() -> ClusterSnapshot? { view().map { ClusterSnapshot($0, now: DispatchTime.now().uptimeNanoseconds) } }

    /// The current view, then every view that differs from the one before in membership, status, incarnation or
    /// records (not every health sample). A slow reader sees the newest.
    public func changes() -> AsyncStream<ClusterView> {
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterView.self, bufferingPolicy: .bufferingNewest(1))
        let (current, id) = state.withLockedValue { state in
            defer { state.next += 1 }
            state.subscribers[state.next] = continuation
            return (state.view, state.next)
        }
        if let current { continuation.yield(current) }
        continuation.onTermination = { [state] _ in state.withLockedValue { _ = $0.subscribers.removeValue(forKey: id) } }
        return stream
    }

    /// Publishes a cluster record (an emergency flag, …) from this node: applied here if the core's validator accepts
    /// it and it supersedes what is held, then spread by gossip. Returns whether it was taken; throws
    /// `GossipNotRunning` before the service runs.
    @discardableResult
    public func publish(_ record: ClusterRecord) async throws -> Bool {
        guard let published = publishing(record) else { throw GossipNotRunning() }
        return try await published.get()
    }

    /// `publish` for event-loop code: the future of whether the record was taken, nil before the service runs.
    func publishing(_ record: ClusterRecord) -> EventLoopFuture<Bool>? {
        guard let (shell, eventLoop) = running.withLockedValue({ $0 }) else { return nil }
        return eventLoop.submit { shell.publish(record) }
    }

    /// Re-reads the keyring file now if it changed (a reload), rather than at the next periodic check.
    public func reloadKeyring() {
        guard let (shell, eventLoop) = running.withLockedValue({ $0 }) else { return }
        eventLoop.execute { shell.reloadKeyringIfChanged() }
    }

    /// Replaces the roster with the other members of a reloaded `nodes.conf`: added nodes are accepted when they
    /// announce themselves, removed ones forgotten and refused.
    public func replaceRoster(_ fleet: [MemberInfo]) {
        guard let (shell, eventLoop) = running.withLockedValue({ $0 }) else { return }
        eventLoop.execute { shell.replaceRoster(fleet) }
    }

    /// Whether the gossip event loop ran a task within `timeout` (true when gossip is not running).
    func eventLoopResponds(within timeout: Duration) async -> Bool {
        guard let (_, eventLoop) = running.withLockedValue({ $0 }) else { return true }
        return await EventLoopProbe.respond([eventLoop], within: timeout)
    }

    private static func update(_ state: NIOLockedValueBox<State>, with view: ClusterView) {
        let subscribers = state.withLockedValue { state -> [AsyncStream<ClusterView>.Continuation] in
            let changed = state.view.map { $0.differsInMembership(from: view) } ?? true
            state.view = view
            if changed { state.generation += 1 }
            return changed ? Array(state.subscribers.values) : []
        }
        for subscriber in subscribers { subscriber.yield(view) }
    }

    public func run() async throws {
        let keyring = try KeyringFile.load(settings.keyringPath)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let settings = settings, logger = logger, health = health, state = state
        do {
            let shell = try await eventLoop.submit {
                GossipShell(settings: settings, keyring: keyring, eventLoop: eventLoop, health: health, logger: logger, publish: { view in
                    Self.update(state, with: view)
                }, synchronized: { [self] in joined.store(true, ordering: .releasing) })
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
            running.withLockedValue { $0 = (shell, eventLoop) }
            defer { running.withLockedValue { $0 = nil } }
            settings.onListening?()
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

/// `GossipService.publish` was called while the service is not running.
public struct GossipNotRunning: Error, CustomStringConvertible {
    public var description: String { "gossip is not running on this node" }
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
