/// S3-FIFO (Yang et al., SOSP 2023): a small FIFO (10 % of the bytes) that filters one-hit wonders, a main FIFO with
/// reinsertion (a 2-bit access counter) and a ghost FIFO of recently evicted keys. Scan-resistant: a burst of
/// objects requested once passes through the small queue without pushing popular objects out of the main one.
public struct S3FIFOPolicy<Key: Hashable>: EvictionPolicy {
    private enum Queue { case small, main }

    private struct Entry {
        var size: Int64
        var frequency: UInt8
        var queue: Queue
    }

    public private(set) var capacityBytes: Int64
    public var usedBytes: Int64 { smallBytes + mainBytes }
    private var smallTarget: Int64
    private var entries: [Key: Entry] = [:]
    private var small = FIFOQueue<Key>()
    private var main = FIFOQueue<Key>()
    private var smallBytes: Int64 = 0
    private var mainBytes: Int64 = 0
    /// Recently evicted keys, each with the generation it was added in (a key may appear more than once).
    private var ghost = FIFOQueue<(key: Key, generation: Int)>()
    private var ghostIndex: [Key: Int] = [:]
    private var ghostGeneration = 0

    public init(capacityBytes: Int64) {
        self.capacityBytes = capacityBytes
        smallTarget = max(1, capacityBytes / 10)
    }

    public func contains(_ key: Key) -> Bool { entries[key] != nil }

    public mutating func request(_ key: Key, size: Int64) -> (hit: Bool, evicted: [Key]) {
        if var entry = entries[key] {
            entry.frequency = min(entry.frequency + 1, 3)
            entries[key] = entry
            return (true, [])
        }
        guard size <= capacityBytes else { return (false, []) }
        var evicted: [Key] = []
        evict(downTo: capacityBytes - size, into: &evicted)
        // Seen recently (in the ghost): straight to main; otherwise on probation in small.
        if ghostIndex.removeValue(forKey: key) != nil {
            entries[key] = Entry(size: size, frequency: 0, queue: .main)
            main.push(key)
            mainBytes += size
        } else {
            entries[key] = Entry(size: size, frequency: 0, queue: .small)
            small.push(key)
            smallBytes += size
        }
        return (false, evicted)
    }

    /// Evicts, in the policy's order, until at least `bytes` are freed or nothing is left (the disk ran out of
    /// space before the byte budget did).
    public mutating func evict(bytes: Int64) -> [Key] {
        var evicted: [Key] = []
        evict(downTo: usedBytes - bytes, into: &evicted)
        return evicted
    }

    private mutating func evict(downTo target: Int64, into evicted: inout [Key]) {
        while usedBytes > target, !(small.isEmpty && main.isEmpty) {
            if smallBytes >= smallTarget || main.isEmpty {
                evictSmall(into: &evicted)
            } else {
                evictMain(into: &evicted)
            }
        }
    }

    public mutating func resize(capacityBytes: Int64) -> [Key] {
        self.capacityBytes = capacityBytes
        smallTarget = max(1, capacityBytes / 10)
        var evicted: [Key] = []
        evict(downTo: capacityBytes, into: &evicted)
        return evicted
    }

    public mutating func remove(_ key: Key) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        // The key stays in its queue and is skipped when it reaches the front.
        if entry.queue == .small { smallBytes -= entry.size } else { mainBytes -= entry.size }
    }

    private mutating func evictSmall(into evicted: inout [Key]) {
        while let key = small.pop() {
            guard var entry = entries[key], entry.queue == .small else { continue }
            smallBytes -= entry.size
            if entry.frequency >= 1 {
                // Accessed again while on probation: promote.
                entry.frequency = 0
                entry.queue = .main
                entries[key] = entry
                main.push(key)
                mainBytes += entry.size
            } else {
                entries[key] = nil
                evicted.append(key)
                rememberGhost(key)
            }
            return
        }
    }

    private mutating func evictMain(into evicted: inout [Key]) {
        while let key = main.pop() {
            guard var entry = entries[key], entry.queue == .main else { continue }
            if entry.frequency > 0 {
                entry.frequency -= 1
                entries[key] = entry
                main.push(key)
                continue
            }
            entries[key] = nil
            mainBytes -= entry.size
            evicted.append(key)
            return
        }
    }

    /// The ghost holds about as many keys as the main queue holds objects.
    private mutating func rememberGhost(_ key: Key) {
        ghostGeneration += 1
        ghost.push((key, ghostGeneration))
        ghostIndex[key] = ghostGeneration
        let limit = max(16, entries.count)
        while ghostIndex.count > limit, let oldest = ghost.pop() {
            if ghostIndex[oldest.key] == oldest.generation { ghostIndex[oldest.key] = nil }
        }
    }
}

extension S3FIFOPolicy: Sendable where Key: Sendable {}
