/// SWIM's round-robin probe order (§4.3): members are probed in a shuffled order, reshuffled after every pass, and
/// newcomers are inserted at random positions, so every member is probed within 2n−1 periods. A member someone else
/// suspects is probed next, out of turn: its suspicion is confirmed (or it hears about it and refutes) within a
/// period instead of waiting for the round-robin.
struct ProbeOrder: Sendable {
    private var order: [String] = []
    private var position = 0

    mutating func insert<G: RandomNumberGenerator>(_ name: String, using generator: inout G) {
        guard !order.contains(name) else { return }
        order.insert(name, at: Int.random(in: 0...order.count, using: &generator))
        if order.firstIndex(of: name)! < position { position += 1 }
    }

    mutating func remove(_ name: String) {
        urgent.removeAll { $0 == name }
        guard let index = order.firstIndex(of: name) else { return }
        order.remove(at: index)
        if index < position { position -= 1 }
    }

    /// Members to probe before resuming the round-robin (suspects others reported), oldest first.
    private var urgent: [String] = []

    /// Probes `name` next, out of turn.
    mutating func prioritize(_ name: String) {
        if !urgent.contains(name) { urgent.append(name) }
    }

    /// The next member to probe among those `eligible` accepts, or nil when there is none.
    mutating func next<G: RandomNumberGenerator>(using generator: inout G, eligible: (String) -> Bool) -> String? {
        while !urgent.isEmpty {
            let name = urgent.removeFirst()
            if eligible(name) { return name }
        }
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
