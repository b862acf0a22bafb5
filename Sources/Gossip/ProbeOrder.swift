/// SWIM's round-robin probe order (§4.3): members are probed in a shuffled order, reshuffled after every pass, and
/// newcomers are inserted at random positions, so every member is probed within 2n−1 periods.
struct ProbeOrder: Sendable {
    private var order: [String] = []
    private var position = 0

    mutating func insert<G: RandomNumberGenerator>(_ name: String, using generator: inout G) {
        guard !order.contains(name) else { return }
        order.insert(name, at: Int.random(in: 0...order.count, using: &generator))
        if order.firstIndex(of: name)! < position { position += 1 }
    }

    mutating func remove(_ name: String) {
        guard let index = order.firstIndex(of: name) else { return }
        order.remove(at: index)
        if index < position { position -= 1 }
    }

    /// The next member to probe among those `eligible` accepts, or nil when there is none.
    mutating func next<G: RandomNumberGenerator>(using generator: inout G, eligible: (String) -> Bool) -> String? {
        for _ in 0..<(order.count + 1) {
            if position >= order.count {
                order.shuffle(using: &generator)
                position = 0
            }
            guard !order.isEmpty else { return nil }
            let candidate = order[position]
            position += 1
            if eligible(candidate) { return candidate }
        }
        return nil
    }
}
