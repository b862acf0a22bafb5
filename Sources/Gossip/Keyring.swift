import Crypto

/// The cluster's gossip keys (AES-256-GCM). The primary key seals every packet; any installed key opens one, so a
/// key can be rotated without a flag day: install the new key everywhere, make it primary everywhere, remove the old.
public struct Keyring: Sendable {
    /// Keys are 32 bytes.
    public static let keyBytes = 32

    public struct Key: Sendable, Equatable {
        public let bytes: [UInt8]
        /// The first 4 bytes of SHA-256(key): names the key in the clear without revealing it.
        public let id: UInt32

        public init(_ bytes: [UInt8]) throws(KeyringError) {
            guard bytes.count == Keyring.keyBytes else { throw .wrongLength(bytes.count) }
            self.init(checked: bytes)
        }

        private init(checked bytes: [UInt8]) {
            self.bytes = bytes
            id = SHA256.hash(data: bytes).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
        }

        /// A new random key.
        public static func random<G: RandomNumberGenerator>(using generator: inout G) -> Key {
            Key(checked: (0..<Keyring.keyBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }

        var symmetric: SymmetricKey { SymmetricKey(data: bytes) }
    }

    /// Primary first.
    public private(set) var keys: [Key]

    public init(primary: Key, others: [Key] = []) {
        keys = [primary] + others.filter { $0 != primary }
    }

    public var primary: Key { keys[0] }

    /// Adds a key that opens packets (no effect if present).
    public mutating func install(_ key: Key) {
        if !keys.contains(key) { keys.append(key) }
    }

    /// Makes an installed key the one that seals.
    public mutating func use(_ key: Key) throws(KeyringError) {
        guard let index = keys.firstIndex(of: key) else { throw .notInstalled }
        keys.swapAt(0, index)
    }

    /// Removes a key; the primary cannot be removed.
    public mutating func remove(_ key: Key) throws(KeyringError) {
        guard key != primary else { throw .removingPrimary }
        keys.removeAll { $0 == key }
    }

    func key(id: UInt32) -> Key? { keys.first { $0.id == id } }
}

public enum KeyringError: Error, Equatable, Sendable, CustomStringConvertible {
    case wrongLength(Int)
    case notInstalled
    case removingPrimary

    public var description: String {
        switch self {
        case .wrongLength(let count): "a gossip key is \(Keyring.keyBytes) bytes (got \(count))"
        case .notInstalled: "the key is not installed"
        case .removingPrimary: "the primary key cannot be removed; make another key primary first"
        }
    }
}
