import EdgeCache
import Testing
@testable import Gossip

@Suite struct WireCodecTests {
    static let info = MemberInfo(name: "edge-paris", role: "edge", region: "eu-west", latitude: 48_860_000, longitude: -2_340_000,
                                 http: "127.0.0.2:8080", gossip: GossipAddress(host: "127.0.0.2", port: 7946))
    static let updates: [GossipUpdate] = [
        .alive(info, incarnation: 7, health: NodeHealth(activeConnections: 12, egressBytesPerSecond: 1 << 33, cacheHitPermille: 930, loadScore: 400)),
        .suspect(name: "mesh-lyon", incarnation: 3, from: "edge-paris"),
        .dead(name: "sat-1", incarnation: 1, from: "origin-1"),
        .left(name: "edge-berlin", incarnation: 9),
        .heartbeat(name: "edge-paris", incarnation: 8, health: NodeHealth(activeConnections: 3, egressBytesPerSecond: 9, cacheHitPermille: 1, loadScore: 2)),
        .heartbeat(name: "edge-lyon", incarnation: 2, health: NodeHealth(loadScore: 1000, serving: false)),
        .record(ClusterRecord(key: "emergency", epoch: 42, value: [1, 2, 3], signature: Array(repeating: 7, count: 64))),
    ]

    @Test(arguments: [
        GossipMessage.Kind.ping(sequence: 1, target: "b"), .pingRequest(sequence: .max, target: "c", address: GossipAddress(host: "::1", port: 1)),
        .ack(sequence: 5), .nack(sequence: 6), .gossip, .sync(reply: false), .sync(reply: true),
    ])
    func everyMessageRoundTrips(kind: GossipMessage.Kind) throws {
        let message = GossipMessage(sender: "origin-1", kind: kind, updates: Self.updates)
        let bytes = WireCodec.encode(message)
        #expect(try WireCodec.decode(bytes) == message)
        #expect(bytes.count == WireCodec.size(ofEnvelope: message) + Self.updates.reduce(0) { $0 + WireCodec.size(of: $1) },
                "the sizes used to pack packets are exact")
    }

    /// "Not serving" rides in the top bit of the load field: a decoder that predates it reads a load above 1000 and
    /// clamps it to saturated, so an older node stops routing to a stalled one too.
    @Test func notServingIsTheLoadFieldsTopBit() throws {
        let stalled = GossipMessage(sender: "a", kind: .gossip, updates: [.heartbeat(name: "a", incarnation: 1, health: NodeHealth(loadScore: 300, serving: false))])
        let serving = GossipMessage(sender: "a", kind: .gossip, updates: [.heartbeat(name: "a", incarnation: 1, health: NodeHealth(loadScore: 300))])
        let (stalledBytes, servingBytes) = (WireCodec.encode(stalled), WireCodec.encode(serving))
        #expect(stalledBytes.count == servingBytes.count)
        let differing = zip(stalledBytes, servingBytes).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(differing.count == 1 && differing.first.map { $0.element.0 ^ $0.element.1 } == 0x80, "one bit differs")
        #expect(NodeHealth(loadScore: 300 | 0x8000).loadScore == 1000, "what an older decoder makes of it")
        #expect(NodeHealth.differsSignificantly(NodeHealth(loadScore: 300), NodeHealth(loadScore: 300, serving: false)), "announced at once")
    }

    @Test func malformedInputIsRejectedPrecisely() {
        let bytes = WireCodec.encode(GossipMessage(sender: "a", kind: .ack(sequence: 1), updates: Self.updates))
        #expect(throws: WireError.unsupportedVersion(9)) { try WireCodec.decode([9] + bytes.dropFirst()) }
        #expect(throws: WireError.truncated) { try WireCodec.decode(bytes.dropLast()) }
        #expect(throws: WireError.trailingBytes) { try WireCodec.decode(bytes + [0]) }
        #expect(throws: WireError.unknownKind(77)) { try WireCodec.decode([1, 77, 1, 0x61, 0]) }
        #expect(throws: WireError.unknownUpdate(9)) { try WireCodec.decode([1, 4, 1, 0x61, 1, 9]) }
        #expect(throws: WireError.invalidText) { try WireCodec.decode([1, 4, 1, 0xFF, 0]) }
    }

    /// Random and mutated datagrams never crash the decoder.
    @Test(arguments: 0..<4) func fuzz(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let valid = WireCodec.encode(GossipMessage(sender: "a", kind: .gossip, updates: Self.updates))
        for _ in 0..<3_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            _ = try? WireCodec.decode(bytes)
        }
    }
}

@Suite struct PacketSealerTests {
    static func key(_ byte: UInt8) throws -> Keyring.Key { try Keyring.Key(Array(repeating: byte, count: 32)) }
    static let message = GossipMessage(sender: "edge-paris", kind: .ping(sequence: 3, target: "origin-1"), updates: WireCodecTests.updates)
    static let now: UInt64 = 1_800_000_000_000

    @Test func sealedPacketsOpenOnlyOnceAndOnlyWithTheKey() throws {
        var sender = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 100, fleet: "demo")
        var receiver = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 200, fleet: "demo")
        let packet = try sender.seal(Self.message, nowMillis: Self.now)
        #expect(packet.count == WireCodec.encode(Self.message).count + PacketSealer.overhead)
        #expect(try receiver.open(packet, nowMillis: Self.now, budget: 1400) == Self.message)
        #expect(throws: DropReason.replayed) { try receiver.open(packet, nowMillis: Self.now, budget: 1400) }
        var stranger = PacketSealer(keyring: Keyring(primary: try Self.key(2)), boot: 1, fleet: "demo")
        #expect(throws: DropReason.unknownKey) { try stranger.open(packet, nowMillis: Self.now, budget: 1400) }
        for index in [0, 3, 10, 30, 45, packet.count - 1] {
            var tampered = try sender.seal(Self.message, nowMillis: Self.now)
            tampered[index] ^= 0x20
            #expect(throws: DropReason.self, "byte \(index)") { try receiver.open(tampered, nowMillis: Self.now, budget: 1400) }
        }
        let fresh = try sender.seal(Self.message, nowMillis: Self.now)
        #expect(throws: DropReason.stale) { try receiver.open(fresh, nowMillis: Self.now + 31_000, budget: 1400) }
        #expect(throws: DropReason.oversized) { try receiver.open(fresh, nowMillis: Self.now, budget: 100) }
        #expect(throws: DropReason.malformed) { try receiver.open([1, 2, 3], nowMillis: Self.now, budget: 1400) }
    }

    @Test func reorderingAndRestartsAreFineReplaysAreNot() throws {
        var sender = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 100, fleet: "demo")
        var receiver = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 200, fleet: "demo")
        let packets = try (0..<1_100).map { _ in try sender.seal(Self.message, nowMillis: Self.now) }
        #expect(try receiver.open(packets[5], nowMillis: Self.now, budget: 1400) == Self.message)
        #expect(try receiver.open(packets[3], nowMillis: Self.now, budget: 1400) == Self.message, "late but new")
        #expect(throws: DropReason.replayed) { try receiver.open(packets[3], nowMillis: Self.now, budget: 1400) }
        #expect(try receiver.open(packets[1_099], nowMillis: Self.now, budget: 1400) == Self.message)
        #expect(try receiver.open(packets[4], nowMillis: Self.now + 10_000, budget: 1400) == Self.message, "far behind, but new and in time")
        #expect(throws: DropReason.replayed) { try receiver.open(packets[1_099], nowMillis: Self.now + 29_000, budget: 1400) }
        #expect(throws: DropReason.stale, "past the clock check") { try receiver.open(packets[1_099], nowMillis: Self.now + 31_000, budget: 1400) }
        var restarted = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 101, fleet: "demo")
        #expect(try receiver.open(try restarted.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) == Self.message)
        #expect(throws: DropReason.replayed, "a previous run's packets") { try receiver.open(packets[5], nowMillis: Self.now, budget: 1400) }
    }

    /// A member holding the key forges packets in another's name with a boot and a counter far ahead: the real
    /// sender's next packets still open (no lock-out), and a boot after the packet's own send time is refused.
    @Test func forgedBootsAndCountersLockNobodyOut() throws {
        var genuine = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: Self.now - 5_000, fleet: "demo")
        var receiver = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 200, fleet: "demo")
        #expect(try receiver.open(try genuine.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) == Self.message)
        var forger = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: Self.now + 25_000, fleet: "demo")
        let early = try forger.seal(Self.message, nowMillis: Self.now + 25_000)
        #expect(throws: DropReason.implausibleBoot) { try receiver.open(try forger.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) }
        #expect(try receiver.open(early, nowMillis: Self.now, budget: 1400) == Self.message, "a boot within the skew is possible")
        var sameBootHugeCounter = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: Self.now - 5_000, fleet: "demo")
        for _ in 0..<2_000 { _ = try sameBootHugeCounter.seal(Self.message, nowMillis: Self.now) }
        #expect(try receiver.open(try sameBootHugeCounter.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) == Self.message)
        for step in 0..<150 {
            let packet = try genuine.seal(Self.message, nowMillis: Self.now + UInt64(step) * 400)
            #expect(try receiver.open(packet, nowMillis: Self.now + UInt64(step) * 400, budget: 1400) == Self.message, "genuine packet \(step)")
        }
    }

    /// Another fleet sharing the keyring: refused and told apart; a forged fleet tag fails authentication.
    @Test func anotherFleetIsRefusedEvenWithTheSameKey() throws {
        var other = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 1, fleet: "staging")
        var receiver = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 2, fleet: "demo")
        var packet = try other.seal(Self.message, nowMillis: Self.now)
        #expect(throws: DropReason.otherFleet) { try receiver.open(packet, nowMillis: Self.now, budget: 1400) }
        let tag = PacketSealer.tag("demo")
        for index in 0..<4 { packet[5 + index] = UInt8(truncatingIfNeeded: tag >> (24 - 8 * UInt32(index))) }
        #expect(throws: DropReason.unauthenticated) { try receiver.open(packet, nowMillis: Self.now, budget: 1400) }
    }

    /// Random and mutated datagrams are dropped with a reason, never a crash; only the untouched one opens.
    @Test(arguments: 0..<3) func hostileDatagramsAreDropped(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var sender = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 1, fleet: "demo")
        var receiver = PacketSealer(keyring: Keyring(primary: try Self.key(1)), boot: 2, fleet: "demo")
        for _ in 0..<1_000 {
            var datagram = try sender.seal(Self.message, nowMillis: Self.now)
            let index = Int.random(in: 0..<datagram.count, using: &generator)
            datagram[index] ^= UInt8.random(in: 1...255, using: &generator)
            if Bool.random(using: &generator) { datagram = Array(datagram.prefix(Int.random(in: 0...datagram.count, using: &generator))) }
            #expect(throws: DropReason.self) { try receiver.open(datagram, nowMillis: Self.now, budget: 1400) }
        }
        for _ in 0..<500 {
            let noise = (0..<Int.random(in: 0...1_500, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(throws: DropReason.self) { try receiver.open(noise, nowMillis: Self.now, budget: 1400) }
        }
    }

    @Test func keysRotateWithoutAFlagDay() throws {
        let old = try Self.key(1), new = try Self.key(2)
        var a = PacketSealer(keyring: Keyring(primary: old), boot: 1, fleet: "demo")
        var b = PacketSealer(keyring: Keyring(primary: old), boot: 2, fleet: "demo")
        b.keyring.install(new)
        try b.keyring.use(new)
        // b seals with the new key while a has not installed it yet: a drops; once installed, a opens.
        let packet = try b.seal(Self.message, nowMillis: Self.now)
        #expect(throws: DropReason.unknownKey) { try a.open(packet, nowMillis: Self.now, budget: 1400) }
        a.keyring.install(new)
        #expect(try a.open(packet, nowMillis: Self.now, budget: 1400) == Self.message)
        #expect(try b.open(try a.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) == Self.message, "old key still opens")
        #expect(throws: KeyringError.removingPrimary) { try b.keyring.remove(new) }
        try b.keyring.remove(old)
        #expect(throws: DropReason.unknownKey) { try b.open(try a.seal(Self.message, nowMillis: Self.now), nowMillis: Self.now, budget: 1400) }
        #expect(throws: KeyringError.wrongLength(16)) { try Keyring.Key(Array(repeating: 0, count: 16)) }
    }
}
