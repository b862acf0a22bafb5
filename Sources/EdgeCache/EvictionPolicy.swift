/// Decides which cached objects to drop when a byte budget is exceeded. Pure: no I/O, no clock.
public protocol EvictionPolicy {
    associatedtype Key: Hashable

    /// A policy holding at most `capacityBytes`.
    init(capacityBytes: Int64)

    /// Bytes held now.
    var usedBytes: Int64 { get }

    /// Whether `key` is held.
    func contains(_ key: Key) -> Bool

    /// Records a request for `key` of `size` bytes. A miss admits the object (unless it is larger than the whole
    /// budget); the keys evicted to make room are returned so the caller can delete their data.
    mutating func request(_ key: Key, size: Int64) -> (hit: Bool, evicted: [Key])

    /// Forgets `key` (its data was removed for another reason).
    mutating func remove(_ key: Key)

    /// Changes the budget (a configuration reload); a smaller one evicts, in the policy's order, down to it. Returns
    /// the keys evicted.
    mutating func resize(capacityBytes: Int64) -> [Key]
}
