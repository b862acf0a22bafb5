/// Least-recently-used eviction over a byte budget: an intrusive doubly-linked list in arrays, O(1) per request.
public struct LRUPolicy<Key: Hashable>: EvictionPolicy {
    fileprivate struct Node {
        var key: Key
        var size: Int64
        var previous: Int
        var next: Int
    }

    public private(set) var capacityBytes: Int64
    public private(set) var usedBytes: Int64 = 0
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var index: [Key: Int] = [:]
    /// Most recent at `head`, least recent at `tail`; -1 when empty.
    private var head = -1
    private var tail = -1

    public init(capacityBytes: Int64) { self.capacityBytes = capacityBytes }

    public func contains(_ key: Key) -> Bool { index[key] != nil }

    public mutating func resize(capacityBytes: Int64) -> [Key] {
        self.capacityBytes = capacityBytes
        var evicted: [Key] = []
        while usedBytes > capacityBytes, tail >= 0 {
            let victim = tail
            evicted.append(nodes[victim].key)
            drop(victim)
        }
        return evicted
    }

    public mutating func request(_ key: Key, size: Int64) -> (hit: Bool, evicted: [Key]) {
        if let slot = index[key] {
            unlink(slot)
            pushFront(slot)
            return (true, [])
        }
        guard size <= capacityBytes else { return (false, []) }
        var evicted: [Key] = []
        while usedBytes + size > capacityBytes, tail >= 0 {
            let victim = tail
            evicted.append(nodes[victim].key)
            drop(victim)
        }
        let slot: Int
        let node = Node(key: key, size: size, previous: -1, next: -1)
        if let reused = free.popLast() {
            nodes[reused] = node
            slot = reused
        } else {
            nodes.append(node)
            slot = nodes.count - 1
        }
        index[key] = slot
        usedBytes += size
        pushFront(slot)
        return (false, evicted)
    }

    public mutating func remove(_ key: Key) {
        if let slot = index[key] { drop(slot) }
    }

    private mutating func drop(_ slot: Int) {
        unlink(slot)
        index[nodes[slot].key] = nil
        usedBytes -= nodes[slot].size
        free.append(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let (previous, next) = (nodes[slot].previous, nodes[slot].next)
        if previous >= 0 { nodes[previous].next = next } else { head = next }
        if next >= 0 { nodes[next].previous = previous } else { tail = previous }
        nodes[slot].previous = -1
        nodes[slot].next = -1
    }

    private mutating func pushFront(_ slot: Int) {
        nodes[slot].next = head
        if head >= 0 { nodes[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
    }
}

extension LRUPolicy: Sendable where Key: Sendable {}
extension LRUPolicy.Node: Sendable where Key: Sendable {}
