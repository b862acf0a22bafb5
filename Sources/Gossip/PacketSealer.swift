import Crypto

/// Why an incoming datagram was dropped (each is counted).
public enum DropReason: String, Error, Sendable, CaseIterable {
    case oversized
    case malformed
    case unknownKey = "unknown_key"
    case unauthenticated
    case replayed
    case stale
    case undecodable
}

/// Seals messages into authenticated, encrypted datagrams and opens them, rejecting replays.
///
/// ```
/// datagram := 0xE1 key-id:u32 boot:u64 counter:u64 sent-ms:u64 nonce:12 ciphertext tag:16
/// ```
/// Everything before the nonce is authenticated (AES-GCM additional data). `boot` is the sender's start time and
/// `counter` counts its packets: a receiver accepts each (sender, boot, counter) once, within a window of the last
/// 1,024 counters, never an older boot, and only if `sent-ms` is within `maximumSkew` of its own clock (so a packet
/// cannot be replayed later, even to a receiver that restarted and forgot).
public struct PacketSealer: Sendable {
    public static let marker: UInt8 = 0xE1
    static let headerBytes = 1 + 4 + 8 + 8 + 8
    /// Bytes added to every message.
    public static let overhead = headerBytes + 12 + 16
    /// Clock difference tolerated between members.
    public static let maximumSkewMillis: UInt64 = 30_000

    public var keyring: Keyring
    private let boot: UInt64
    private var counter: UInt64 = 0
    private var windows: [String: ReplayWindow] = [:]
    /// Senders remembered at most (a member set is far smaller).
    static let maximumSenders = 65_536

    /// `boot` must differ between runs of one member (its start time in milliseconds).
    public init(keyring: Keyring, boot: UInt64) {
        self.keyring = keyring
        self.boot = boot
    }

    /// Seals `message` under the primary key. (AES-GCM only fails for a malformed key, which `Keyring.Key` refuses.)
    public mutating func seal(_ message: GossipMessage, nowMillis: UInt64) throws -> [UInt8] {
        counter += 1
        var header: [UInt8] = [Self.marker]
        Self.put(keyring.primary.id, &header)
        Self.put(boot, &header)
        Self.put(counter, &header)
        Self.put(nowMillis, &header)
        let plaintext = WireCodec.encode(message)
        let box = try AES.GCM.seal(plaintext, using: keyring.primary.symmetric, nonce: AES.GCM.Nonce(), authenticating: header)
        return header + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    public mutating func open(_ datagram: [UInt8], nowMillis: UInt64, budget: Int) throws(DropReason) -> GossipMessage {
        guard datagram.count <= budget else { throw .oversized }
        guard datagram.count >= Self.overhead, datagram[0] == Self.marker else { throw .malformed }
        let header = Array(datagram[0..<Self.headerBytes])
        let keyID = Self.integer(header, at: 1, as: UInt32.self)
        let senderBoot = Self.integer(header, at: 5, as: UInt64.self)
        let senderCounter = Self.integer(header, at: 13, as: UInt64.self)
        let sentAt = Self.integer(header, at: 21, as: UInt64.self)
        guard let key = keyring.key(id: keyID) else { throw .unknownKey }
        let plaintext: [UInt8]
        do {
            let nonce = try AES.GCM.Nonce(data: datagram[Self.headerBytes..<(Self.headerBytes + 12)])
            let box = try AES.GCM.SealedBox(nonce: nonce, ciphertext: datagram[(Self.headerBytes + 12)..<(datagram.count - 16)],
                                            tag: datagram[(datagram.count - 16)...])
            plaintext = Array(try AES.GCM.open(box, using: key.symmetric, authenticating: header))
        } catch {
            throw .unauthenticated
        }
        let difference = nowMillis > sentAt ? nowMillis - sentAt : sentAt - nowMillis
        guard difference <= Self.maximumSkewMillis else { throw .stale }
        let message: GossipMessage
        do {
            message = try WireCodec.decode(plaintext)
        } catch {
            throw .undecodable
        }
        if windows[message.sender] == nil && windows.count >= Self.maximumSenders { windows.removeAll() }
        guard windows[message.sender, default: ReplayWindow()].accept(boot: senderBoot, counter: senderCounter) else { throw .replayed }
        return message
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    private static func integer<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        bytes[offset..<(offset + MemoryLayout<T>.size)].reduce(T(0)) { $0 << 8 | T($1) }
    }
}

/// Which (boot, counter) pairs of one sender were seen: the newest boot only, and a sliding window of 1,024
/// counters below the highest (older ones are refused: they cannot be told from replays).
struct ReplayWindow: Sendable {
    static let size: UInt64 = 1_024
    private var boot: UInt64 = 0
    private var highest: UInt64 = 0
    private var seen = [UInt64](repeating: 0, count: Int(size / 64))

    mutating func accept(boot: UInt64, counter: UInt64) -> Bool {
        if boot < self.boot { return false }
        if boot > self.boot {
            self.boot = boot
            highest = 0
            seen = [UInt64](repeating: 0, count: seen.count)
        }
        if counter > highest {
            let shift = counter - highest
            if shift >= Self.size {
                seen = [UInt64](repeating: 0, count: seen.count)
            } else {
                for value in (highest + 1)...counter { clear(value) }
            }
            highest = counter
            mark(counter)
            return true
        }
        guard highest - counter < Self.size, !isMarked(counter) else { return false }
        mark(counter)
        return true
    }

    private func position(_ counter: UInt64) -> (Int, UInt64) {
        let bit = counter % Self.size
        return (Int(bit / 64), 1 << (bit % 64))
    }

    private mutating func mark(_ counter: UInt64) {
        let (word, mask) = position(counter)
        seen[word] |= mask
    }

    private mutating func clear(_ counter: UInt64) {
        let (word, mask) = position(counter)
        seen[word] &= ~mask
    }

    private func isMarked(_ counter: UInt64) -> Bool {
        let (word, mask) = position(counter)
        return seen[word] & mask != 0
    }
}
