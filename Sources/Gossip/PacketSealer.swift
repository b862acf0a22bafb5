import Crypto

/// Why an incoming datagram was dropped (each is counted).
public enum DropReason: String, Error, Sendable, CaseIterable {
    case oversized
    case malformed
    case unknownKey = "unknown_key"
    /// Sealed for another fleet (its `[fleet] name` differs), even if it shares the keyring.
    case otherFleet = "other_fleet"
    case unauthenticated
    case replayed
    case stale
    /// A sender start time after the packet's own send time: no process sends before it starts.
    case implausibleBoot = "implausible_boot"
    case undecodable
}

/// Seals messages into authenticated, encrypted datagrams and opens them, rejecting replays.
///
/// ```
/// datagram := 0xE2 key-id:u32 fleet:u32 boot:u64 counter:u64 sent-ms:u64 nonce:12 ciphertext tag:16
/// ```
/// Everything before the nonce, and the fleet's whole name, is authenticated (AES-GCM additional data); `fleet` is
/// the first four bytes of SHA-256 of the name, so a packet of another fleet sharing the keyring is told apart and
/// refused before decryption. `boot` is the sender's start time and `counter` counts its packets: a receiver accepts
/// a packet only if `sent-ms` is within `maximumSkew` of its own clock (so it cannot be replayed later, even to a
/// receiver that restarted and forgot), `boot` is not after `sent-ms`, and it has not seen that (sender, boot,
/// counter) in the last 2 × `maximumSkew` — the whole time a replay could pass the clock check. No ordering of boots
/// or counters is assumed, so a member holding the key that forges a later boot or a huge counter in another's name
/// cannot make the real sender's packets look old.
public struct PacketSealer: Sendable {
    public static let marker: UInt8 = 0xE2
    static let headerBytes = 1 + 4 + 4 + 8 + 8 + 8
    /// Bytes added to every message.
    public static let overhead = headerBytes + 12 + 16
    /// Clock difference tolerated between members.
    public static let maximumSkewMillis: UInt64 = 30_000

    public var keyring: Keyring
    private let boot: UInt64
    private let fleetName: [UInt8]
    private let fleetTag: UInt32
    private var counter: UInt64 = 0
    /// Packets seen while their replay could pass the clock check (sent-ms within the skew, either way).
    private var replays = ReplayMemory(retention: 2 * maximumSkewMillis, capacity: 262_144)

    /// `boot` must differ between runs of one member (its start time in milliseconds); `fleet` is the fleet's name.
    public init(keyring: Keyring, boot: UInt64, fleet: String) {
        self.keyring = keyring
        self.boot = boot
        fleetName = Array(fleet.utf8)
        fleetTag = Self.tag(fleet)
    }

    /// The four bytes that name a fleet in every datagram's header.
    public static func tag(_ fleet: String) -> UInt32 {
        SHA256.hash(data: Array(fleet.utf8)).prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// Seals `message` under the primary key. (AES-GCM only fails for a malformed key, which `Keyring.Key` refuses.)
    public mutating func seal(_ message: GossipMessage, nowMillis: UInt64) throws -> [UInt8] {
        counter += 1
        var header: [UInt8] = [Self.marker]
        Self.put(keyring.primary.id, &header)
        Self.put(fleetTag, &header)
        Self.put(boot, &header)
        Self.put(counter, &header)
        Self.put(nowMillis, &header)
        let plaintext = WireCodec.encode(message)
        let box = try AES.GCM.seal(plaintext, using: keyring.primary.symmetric, nonce: AES.GCM.Nonce(), authenticating: header + fleetName)
        return header + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    public mutating func open(_ datagram: [UInt8], nowMillis: UInt64, budget: Int) throws(DropReason) -> GossipMessage {
        guard datagram.count <= budget else { throw .oversized }
        guard datagram.count >= Self.overhead, datagram[0] == Self.marker else { throw .malformed }
        let header = Array(datagram[0..<Self.headerBytes])
        let keyID = Self.integer(header, at: 1, as: UInt32.self)
        let tag = Self.integer(header, at: 5, as: UInt32.self)
        let senderBoot = Self.integer(header, at: 9, as: UInt64.self)
        let senderCounter = Self.integer(header, at: 17, as: UInt64.self)
        let sentAt = Self.integer(header, at: 25, as: UInt64.self)
        guard let key = keyring.key(id: keyID) else { throw .unknownKey }
        guard tag == fleetTag else { throw .otherFleet }
        let plaintext: [UInt8]
        do {
            let nonce = try AES.GCM.Nonce(data: datagram[Self.headerBytes..<(Self.headerBytes + 12)])
            let box = try AES.GCM.SealedBox(nonce: nonce, ciphertext: datagram[(Self.headerBytes + 12)..<(datagram.count - 16)],
                                            tag: datagram[(datagram.count - 16)...])
            plaintext = Array(try AES.GCM.open(box, using: key.symmetric, authenticating: header + fleetName))
        } catch {
            throw .unauthenticated
        }
        let difference = nowMillis > sentAt ? nowMillis - sentAt : sentAt - nowMillis
        guard difference <= Self.maximumSkewMillis else { throw .stale }
        guard senderBoot <= sentAt else { throw .implausibleBoot }
        let message: GossipMessage
        do {
            message = try WireCodec.decode(plaintext)
        } catch {
            throw .undecodable
        }
        guard replays.accept(.init(sender: message.sender, boot: senderBoot, counter: senderCounter), nowMillis: nowMillis)
        else { throw .replayed }
        return message
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    private static func integer<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        bytes[offset..<(offset + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
    }
}

/// The packets accepted in the last `retention` milliseconds, by (sender, boot, counter): exactly the ones whose
/// replay could still pass the clock check. Nothing here depends on the order of boots or counters, so no forged
/// value (a boot or counter far ahead) can make a genuine sender's later packets look old. At most `capacity`
/// packets are remembered; beyond, the oldest are forgotten first.
struct ReplayMemory: Sendable {
    struct Key: Hashable, Sendable {
        let sender: String
        let boot: UInt64
        let counter: UInt64
    }

    let retention: UInt64
    let capacity: Int
    private var seen: Set<Key> = []
    private var arrivals: [(at: UInt64, key: Key)] = []
    private var head = 0

    init(retention: UInt64, capacity: Int) {
        self.retention = retention
        self.capacity = capacity
    }

    var count: Int { seen.count }

    /// True the first time a packet is offered within the retention, false for a replay.
    mutating func accept(_ key: Key, nowMillis: UInt64) -> Bool {
        while head < arrivals.count && (nowMillis.elapsed(since: arrivals[head].at) > retention
                                        || arrivals[head].at.elapsed(since: nowMillis) > retention || seen.count >= capacity) {
            seen.remove(arrivals[head].key)
            head += 1
        }
        if head > 4_096 && head * 2 > arrivals.count {
            arrivals.removeFirst(head)
            head = 0
        }
        guard seen.insert(key).inserted else { return false }
        arrivals.append((nowMillis, key))
        return true
    }
}
