/// A cluster-wide value (the emergency flag, later others): key → value at an epoch. Only a higher epoch replaces the
/// record held: at the same epoch the first record a member took stays, whatever bytes come later, so a member holding
/// the gossip key cannot swap a record in force for a variant of it (an extra signature line, say) without a new
/// epoch, which only its signers can issue. Writers bump the epoch for every change. A record may carry a signature
/// that a caller-supplied validator checks before the record is accepted or forwarded.
public struct ClusterRecord: Hashable, Sendable {
    public static let maximumKeyBytes = 64
    public static let maximumValueBytes = 512
    public static let maximumSignatureBytes = 128

    public var key: String
    public var epoch: UInt64
    public var value: [UInt8]
    public var signature: [UInt8]

    public init(key: String, epoch: UInt64, value: [UInt8], signature: [UInt8] = []) {
        self.key = key
        self.epoch = epoch
        self.value = value
        self.signature = signature
    }

    /// Within the size limits.
    public var isWellFormed: Bool {
        !key.isEmpty && key.utf8.count <= Self.maximumKeyBytes && value.count <= Self.maximumValueBytes
            && signature.count <= Self.maximumSignatureBytes
    }

    /// Whether this record replaces `other` (same key): only at a higher epoch.
    public func supersedes(_ other: ClusterRecord) -> Bool { epoch > other.epoch }
}
