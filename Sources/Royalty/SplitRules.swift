/// One collaborator's share of a content's royalties.
public struct Share: Sendable, Equatable, Hashable {
    public let artist: String
    /// Out of 10,000.
    public let basisPoints: UInt16

    public init(artist: String, basisPoints: UInt16) {
        self.artist = artist
        self.basisPoints = basisPoints
    }
}

/// How a content's royalties are split between collaborators from a date on: shares in basis points summing to
/// exactly 10,000, each artist once, at most 63 of them (one ledger transfer carries the payer and every share).
public struct SplitRule: Sendable, Equatable {
    public let content: String
    /// From when it applies (Unix seconds); the rule in force at a time is the latest one effective by then.
    public let effectiveFrom: Int64
    public let shares: [Share]

    public static let maximumShares = 63

    /// Why a rule is refused.
    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case noShares
        case tooManyShares(Int)
        case zeroShare(artist: String)
        case duplicateArtist(String)
        case sum(Int)
        /// Another rule of the content takes effect at the same time with other shares.
        case conflicting(effectiveFrom: Int64)

        public var description: String {
            switch self {
            case .noShares: "a split rule needs at least one share"
            case .tooManyShares(let count): "\(count) shares; at most \(SplitRule.maximumShares)"
            case .zeroShare(let artist): "the share of \(artist) is 0 basis points"
            case .duplicateArtist(let artist): "\(artist) has two shares"
            case .sum(let sum): "shares sum to \(sum) basis points, not 10000"
            case .conflicting(let time): "another rule with other shares takes effect at \(time)"
            }
        }
    }

    public init(content: String, effectiveFrom: Int64, shares: [Share]) throws(Invalid) {
        guard !shares.isEmpty else { throw .noShares }
        guard shares.count <= Self.maximumShares else { throw .tooManyShares(shares.count) }
        var seen: Set<String> = []
        for share in shares {
            guard share.basisPoints > 0 else { throw .zeroShare(artist: share.artist) }
            guard seen.insert(share.artist).inserted else { throw .duplicateArtist(share.artist) }
        }
        let sum = shares.reduce(0) { $0 + Int($1.basisPoints) }
        guard sum == 10_000 else { throw .sum(sum) }
        self.content = content
        self.effectiveFrom = effectiveFrom
        self.shares = shares
    }

    /// `amount` split by the shares, exactly (largest remainder, ties by artist id).
    public func split(_ amount: Int64) -> [(artist: String, amount: Int64)] {
        // Shares are validated (positive, distinct, summing to 10,000) and amounts are never negative here.
        let parts = (try? LargestRemainder.allocate(max(0, amount), among: shares.map { (party: $0.artist, weight: UInt64($0.basisPoints)) }).get()) ?? []
        return parts.map { ($0.party, $0.amount) }
    }
}

/// Every content's split rules, versioned by effective time.
public struct SplitBook: Sendable {
    private var rules: [String: [SplitRule]] = [:]

    public init() {}

    /// Adds a rule; the same rule again changes nothing (idempotent), another one with the same effective time is
    /// refused.
    public mutating func add(_ rule: SplitRule) throws(SplitRule.Invalid) {
        var versions = rules[rule.content] ?? []
        if let existing = versions.first(where: { $0.effectiveFrom == rule.effectiveFrom }) {
            guard existing == rule else { throw .conflicting(effectiveFrom: rule.effectiveFrom) }
            return
        }
        versions.append(rule)
        versions.sort { $0.effectiveFrom < $1.effectiveFrom }
        rules[rule.content] = versions
    }

    /// The rule of `content` in force at `time`, if any.
    public func rule(for content: String, at time: Int64) -> SplitRule? {
        rules[content]?.last { $0.effectiveFrom <= time }
    }
}
