import Dispatch
import Foundation
import Gossip
import Logging
import Metrics
import NIOCore

/// Runs one `GossipCore` on one event loop and carries out its directives. Confined to that loop.
final class GossipShell: @unchecked Sendable {
    private var core: GossipCore<SystemRandomNumberGenerator>
    private var sealer: PacketSealer
    private let settings: GossipNodeSettings
    private let eventLoop: EventLoop
    private let health: @Sendable () -> NodeHealth
    private let logger: Logger
    private let publish: @Sendable (ClusterView) -> Void
    private let synchronized: @Sendable () -> Void
    private var synchronizedOnce = false
    private var channel: Channel?
    private var timer: Scheduled<Void>?
    private var timerDeadline: UInt64 = .max
    private var housekeeping: RepeatedTask?
    private var joinRetry: RepeatedTask?
    /// How many times the seeds were asked for their state since the start (at most 20).
    private var joinAttempts = 0
    private var keyringModified: Date?
    private var resolved: [GossipAddress: SocketAddress] = [:]
    private var exported = GossipCounters()
    private let metrics = GossipMetrics()

    init(settings: GossipNodeSettings, keyring: Keyring, eventLoop: EventLoop, health: @escaping @Sendable () -> NodeHealth,
         logger: Logger, publish: @escaping @Sendable (ClusterView) -> Void, synchronized: @escaping @Sendable () -> Void = {}) {
        self.settings = settings
        self.synchronized = synchronized
        self.eventLoop = eventLoop
        self.health = health
        self.logger = logger
        self.publish = publish
        let now = Self.now()
        core = GossipCore(info: settings.me, seeds: settings.seeds, settings: settings.protocolSettings,
                          generator: SystemRandomNumberGenerator(), now: now, validator: settings.recordValidator)
        core.assume(settings.fleet, now: now)
        core.clockOffset = Self.clockOffset()
        for record in settings.initialRecords { _ = core.publish(record, now: now) }
        sealer = PacketSealer(keyring: keyring, boot: UInt64(Date().timeIntervalSince1970 * 1000), fleet: settings.fleetName)
        keyringModified = Self.modified(settings.keyringPath)
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func wallMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
    /// The wall clock minus the uptime clock (ns), for the core's probe slots; refreshed every second to follow NTP.
    static func clockOffset() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) - Int64(clamping: now()) }

    func start(channel: Channel) {
        self.channel = channel
        perform(core.start(now: Self.now()))
        // Until a seed's state arrives, ask again every 250 ms for a few seconds.
        joinRetry = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [self] task in
            joinAttempts += 1
            guard !synchronizedOnce, joinAttempts <= 20 else {
                task.cancel()
                return
            }
            perform(core.askSeeds())
        }
        housekeeping = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            core.clockOffset = Self.clockOffset()
            perform(core.setHealth(health(), now: Self.now()))
            reloadKeyringIfChanged()
        }
    }

    func receive(_ datagram: [UInt8], from address: SocketAddress) {
        guard let ip = address.ipAddress, let port = address.port else { return }
        let message: GossipMessage
        do {
            message = try sealer.open(datagram, nowMillis: Self.wallMillis(), budget: settings.protocolSettings.packetBudget)
        } catch {
            metrics.dropped(error)
            logger.debug("gossip packet dropped", metadata: ["from": "\(address.logDescription)", "reason": "\(error.rawValue)"])
            return
        }
        metrics.received(bytes: datagram.count)
        perform(core.receive(message, from: GossipAddress(host: ip, port: UInt16(port)), now: Self.now()))
        if case .sync(reply: true) = message.kind, !synchronizedOnce {
            // A seed's whole state (members and records, the emergency flag among them) has been merged.
            synchronizedOnce = true
            publishSnapshot()
            synchronized()
        }
    }

    func noteSocketError(_ error: Error) {
        logger.trace("gossip socket error", metadata: ["error": "\(error)"])
    }

    /// Graceful leave: announce it, let a few gossip rounds carry it, then close.
    func leave() {
        housekeeping?.cancel()
        joinRetry?.cancel()
        perform(core.leave(now: Self.now()))
        logger.info("leaving the cluster")
        let rounds = Int64(3 * settings.protocolSettings.gossipInterval / 1_000_000)
        eventLoop.scheduleTask(in: .milliseconds(rounds)) { [self] in
            timer?.cancel()
            channel?.close(promise: nil)
        }
    }

    /// The fleet's configuration changed (a reload): the roster is replaced (see `GossipCore.replaceRoster`).
    func replaceRoster(_ fleet: [MemberInfo]) {
        perform(core.replaceRoster(fleet + [core.me.info], now: Self.now()))
        publishSnapshot()
    }

    /// Publishes a record from this node; whether the core took it (valid, and newer than the one held).
    func publish(_ record: ClusterRecord) -> Bool {
        perform(core.publish(record, now: Self.now()))
        publishSnapshot()
        return core.records[record.key] == record
    }

    private func tick() {
        timer = nil
        timerDeadline = .max
        perform(core.tick(now: Self.now()))
        publishSnapshot()
    }

    private func perform(_ directives: [GossipDirective]) {
        for directive in directives {
            switch directive {
            case .send(let message, let address):
                send(message, to: address)
            case .scheduleTick(let deadline):
                guard deadline < timerDeadline || timer == nil else { continue }
                timer?.cancel()
                timerDeadline = deadline
                timer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(deadline)) { [self] in tick() }
            case .memberChanged(let member, let previous):
                logger.info("member \(member.status)", metadata: [
                    "member": "\(member.info.name)", "incarnation": "\(member.incarnation)", "was": "\(previous.map { "\($0)" } ?? "unknown")"])
                metrics.memberChanged(to: member.status)
            case .recordChanged(let record):
                logger.notice("cluster record changed", metadata: ["key": "\(record.key)", "epoch": "\(record.epoch)"])
            }
        }
        exportCounters()
    }

    private func send(_ message: GossipMessage, to address: GossipAddress) {
        guard let channel, let destination = resolve(address) else { return }
        let datagram: [UInt8]
        do {
            datagram = try sealer.seal(message, nowMillis: Self.wallMillis())
        } catch {
            logger.error("cannot seal a gossip packet", metadata: ["error": "\(error)"])
            return
        }
        guard datagram.count <= settings.protocolSettings.packetBudget else {
            logger.error("gossip packet over budget, not sent", metadata: ["bytes": "\(datagram.count)"])
            return
        }
        metrics.sent(bytes: datagram.count)
        let envelope = AddressedEnvelope(remoteAddress: destination, data: channel.allocator.buffer(bytes: datagram))
        channel.writeAndFlush(envelope, promise: nil)
    }

    private func resolve(_ address: GossipAddress) -> SocketAddress? {
        if let known = resolved[address] { return known }
        guard let socketAddress = try? SocketAddress.makeAddressResolvingHost(address.host, port: Int(address.port)) else {
            logger.warning("cannot resolve a gossip address", metadata: ["address": "\(address)"])
            return nil
        }
        resolved[address] = socketAddress
        return socketAddress
    }

    /// Re-reads the keyring file when its modification time changed; a file that does not load keeps the current keys.
    func reloadKeyringIfChanged() {
        let modified = Self.modified(settings.keyringPath)
        guard modified != keyringModified else { return }
        keyringModified = modified
        do {
            sealer.keyring = try KeyringFile.load(settings.keyringPath)
            logger.notice("gossip keyring reloaded", metadata: ["keys": "\(sealer.keyring.keys.count)",
                                                                "primary": "\(KeyringFile.describe(sealer.keyring.primary))"])
        } catch {
            logger.error("gossip keyring not reloaded; keeping the current keys", metadata: ["error": "\(error)"])
        }
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    private func exportCounters() {
        let counters = core.counters
        metrics.add(counters, since: exported)
        exported = counters
    }

    private func publishSnapshot() {
        let members = core.members
        metrics.members(members.map(\.status))
        publish(ClusterView(node: core.me.info.name, localHealthMultiplier: core.localHealth, members: members, records: core.records))
    }
}
