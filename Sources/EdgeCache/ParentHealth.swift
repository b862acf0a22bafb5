/// Which parents a fill should try, in what order. Parents come in configured order; one that failed (hash mismatch,
/// truncation, timeout, error) is marked bad for a penalty that doubles with each consecutive failure, and is tried
/// only after every healthy parent — never skipped outright, so a fleet whose parents all failed once still gets
/// tried. Pure: time is passed in.
public struct ParentHealth<Parent: Hashable & Sendable>: Sendable {
    /// Penalty bounds.
    public struct Settings: Sendable {
        /// Penalty after a first failure.
        public var basePenaltyNanoseconds: UInt64
        /// Longest penalty.
        public var maximumPenaltyNanoseconds: UInt64

        public init(basePenaltyNanoseconds: UInt64 = 10_000_000_000, maximumPenaltyNanoseconds: UInt64 = 300_000_000_000) {
            self.basePenaltyNanoseconds = basePenaltyNanoseconds
            self.maximumPenaltyNanoseconds = maximumPenaltyNanoseconds
        }
    }

    private struct Penalty {
        var until: UInt64
        var strikes: Int
    }

    public let parents: [Parent]
    public let settings: Settings
    private var penalties: [Parent: Penalty] = [:]

    public init(parents: [Parent], settings: Settings = Settings()) {
        self.parents = parents
        self.settings = settings
    }

    /// Whether `parent` is serving a penalty at `now`.
    public func isBad(_ parent: Parent, now: UInt64) -> Bool {
        penalties[parent].map { now < $0.until } ?? false
    }

    /// Healthy parents in configured order, then bad ones, soonest-forgiven first.
    public func order(now: UInt64) -> [Parent] {
        let healthy = parents.filter { !isBad($0, now: now) }
        let bad = parents.filter { isBad($0, now: now) }
            .enumerated()
            .sorted { (penalties[$0.element]!.until, $0.offset) < (penalties[$1.element]!.until, $1.offset) }
            .map(\.element)
        return healthy + bad
    }

    /// Marks `parent` bad; returns the penalty given (nanoseconds).
    @discardableResult
    public mutating func failed(_ parent: Parent, now: UInt64) -> UInt64 {
        let strikes = (penalties[parent]?.strikes ?? 0) + 1
        let shift = UInt64(min(strikes - 1, 32))
        let (scaled, overflow) = settings.basePenaltyNanoseconds.multipliedReportingOverflow(by: 1 << shift)
        let penalty = overflow ? settings.maximumPenaltyNanoseconds : min(scaled, settings.maximumPenaltyNanoseconds)
        let (until, late) = now.addingReportingOverflow(penalty)
        penalties[parent] = Penalty(until: late ? .max : until, strikes: strikes)
        return penalty
    }

    /// The record for a new list of parents (a reload): the parents in `keeping` that are still listed keep their
    /// penalties and strikes; every other parent starts healthy.
    public func replacingParents(_ parents: [Parent], keeping: Set<Parent>) -> ParentHealth {
        var next = ParentHealth(parents: parents, settings: settings)
        let listed = Set(parents)
        next.penalties = penalties.filter { keeping.contains($0.key) && listed.contains($0.key) }
        return next
    }

    /// `parent` delivered verified data: its record is cleared.
    public mutating func succeeded(_ parent: Parent) {
        penalties[parent] = nil
    }
}
