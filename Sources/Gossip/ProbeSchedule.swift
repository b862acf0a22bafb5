/// Which member to probe next.
///
/// SWIM (§4.3) has each member probe the others in its own shuffled round-robin. The members' orders are
/// independent, so the wait until someone probes a crashed member is roughly exponential with a mean of one protocol
/// period: one crash in a hundred waits more than 4.6 periods before anyone notices. Here every member derives the
/// same permutation of the active members for each pass (seeded by the pass number), and in slot `k` of a pass the
/// member at position `q` probes the one at `q + 1 + k`: in every slot each member is probed by exactly one other (a
/// Latin square), so a crash is noticed within about one period. Slots are counted on the wall clock (fleets keep
/// their clocks in step with NTP; a member whose clock is off just probes in a phase of its own, as with independent
/// orders). Each pass brings a new permutation, so over passes every member is probed by different ones, and every
/// member still probes every other once per pass.
///
/// A suspect that another member reported is probed first, out of turn: its suspicion is confirmed (or it hears of it
/// and refutes) within a period.
struct ProbeSchedule: Sendable {
    /// Members to probe before the schedule resumes, oldest report first.
    private var urgent: [String] = []
    private var permutation: [String] = []
    private var ownPosition = 0
    private var cachedPass: UInt64 = .max
    private var cachedVersion: UInt64 = .max
    private var lastSlot: UInt64?

    /// Probes `name` out of turn, after the suspects reported before it.
    mutating func prioritize(_ name: String) {
        if !urgent.contains(name) { urgent.append(name) }
    }

    /// `name` is no longer probed (dead or gone).
    mutating func remove(_ name: String) {
        urgent.removeAll { $0 == name }
    }

    /// The member to probe in wall-clock `slot`: a reported member that is still `suspected`, else the scheduled one
    /// among `others` (the active members other than `me`, sorted, whose list changes exactly when `version` does),
    /// skipping those `eligible` refuses; nil when there is none. A slot asked twice (a probe started early for a
    /// suspect) moves on to the next one, never further.
    mutating func next(slot: UInt64, me: String, others: [String], version: UInt64, suspected: (String) -> Bool,
                       eligible: (String) -> Bool) -> String? {
        while !urgent.isEmpty {
            let name = urgent.removeFirst()
            if suspected(name) { return name }
        }
        guard !others.isEmpty else { return nil }
        // Slots are wall-clock nanoseconds (at most Int64.max) over the probe interval: adding one stays in range.
        let slot = lastSlot.map { Swift.min(Swift.max(slot, $0 + 1), slot + 1) } ?? slot
        lastSlot = slot
        let span = UInt64(others.count)
        let pass = slot / span
        if pass != cachedPass || version != cachedVersion {
            arrange(pass: pass, me: me, others: others)
            cachedPass = pass
            cachedVersion = version
        }
        let count = permutation.count
        let step = Int(slot % span)
        for offset in 0..<(count - 1) {
            let candidate = permutation[(ownPosition + 1 + (step + offset) % (count - 1)) % count]
            if eligible(candidate) { return candidate }
        }
        return nil
    }

    /// The pass's permutation of every active member, this one included: the same on every member that knows the same
    /// members (sorted names, shuffled by a generator seeded with the pass number alone).
    private mutating func arrange(pass: UInt64, me: String, others: [String]) {
        let index = others.partitioningIndex { $0 >= me }
        permutation = others
        permutation.insert(me, at: index)
        var state = pass &* 0x9E37_79B9_7F4A_7C15 ^ 0x5EED_0F_5107
        for i in stride(from: permutation.count - 1, to: 0, by: -1) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            mixed ^= mixed >> 31
            permutation.swapAt(i, Int(mixed % UInt64(i + 1)))
        }
        ownPosition = permutation.firstIndex(of: me)!
    }
}
