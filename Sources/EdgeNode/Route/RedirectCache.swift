import NIOConcurrencyHelpers
import Gossip

/// The redirect decisions of the last second, per (where the viewer was placed, content): a playlist redirect then
/// costs a zone lookup and a dictionary probe instead of a ranking of the fleet. An entry is used only while the
/// cluster view has the generation it was decided under (any change of membership, status or incarnation makes a new
/// one: a failed node is never chosen from the cache) and for at most `ttl` (load and recovery move slowly). At most
/// `capacity` entries; when full it starts over.
final class RedirectCache: Sendable {
    /// Where a viewer was placed, for the cache: zone placements and placements at this node repeat; GeoIP ones,
    /// each at its own city, are not cached.
    enum Place: Hashable, Sendable {
        case zone(String)
        case node
    }

    struct Key: Hashable, Sendable {
        let place: Place
        let content: String
    }

    /// A decision: the node chosen (nil: served here), whether it was taken in degraded emergency mode, and why the
    /// first candidate was first.
    struct Target: Equatable, Sendable {
        let node: String?
        let degraded: Bool
        var reason = RoutingMetrics.Reason.noCandidate
    }

    private struct Entry {
        let target: Target
        let decidedAt: UInt64
    }

    let ttl: UInt64
    let capacity: Int
    private let state = NIOLockedValueBox<(generation: UInt64, entries: [Key: Entry])>((0, [:]))

    init(ttl: UInt64 = 1_000_000_000, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The decision held for `key` under this view generation at `now` (uptime ns); nil means "decide".
    func lookup(_ key: Key, generation: UInt64, now: UInt64) -> Target? {
        state.withLockedValue { state -> Target? in
            guard state.generation == generation, let entry = state.entries[key], now.elapsed(since: entry.decidedAt) < ttl else { return nil }
            return entry.target
        }
    }

    func store(_ target: Target, for key: Key, generation: UInt64, now: UInt64) {
        state.withLockedValue { state in
            if state.generation != generation || state.entries.count >= capacity {
                state.entries.removeAll(keepingCapacity: true)
                state.generation = generation
            }
            state.entries[key] = Entry(target: target, decidedAt: now)
        }
    }
}
