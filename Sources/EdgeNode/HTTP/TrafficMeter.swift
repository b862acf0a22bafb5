import Atomics
import Dispatch
import Gossip

/// Running totals of what the data plane has sent and how the cache has answered. Reading them changes nothing:
/// whoever needs a rate (the gossiped health, a status page) keeps its own previous reading.
public struct TrafficTotals: Sendable, Equatable {
    /// Response body bytes handed to the network.
    public var bodyBytes: UInt64 = 0
    /// Requests a caching node answered from its cache, and every request it looked up.
    public var cacheHits: UInt64 = 0
    public var cacheLookups: UInt64 = 0

    public init(bodyBytes: UInt64 = 0, cacheHits: UInt64 = 0, cacheLookups: UInt64 = 0) {
        self.bodyBytes = bodyBytes
        self.cacheHits = cacheHits
        self.cacheLookups = cacheLookups
    }
}

/// The data plane's counters behind `TrafficTotals`, updated without locks from every event loop.
final class TrafficMeter: Sendable {
    private let bodyBytes = ManagedAtomic<UInt64>(0)
    private let cacheHits = ManagedAtomic<UInt64>(0)
    private let cacheLookups = ManagedAtomic<UInt64>(0)

    /// A response body of `bytes` is being sent.
    func sending(_ bytes: UInt64) { bodyBytes.wrappingIncrement(by: bytes, ordering: .relaxed) }

    /// A caching node answered from its cache (`hit`) or had to fill.
    func cacheAnswered(hit: Bool) {
        cacheLookups.wrappingIncrement(ordering: .relaxed)
        if hit { cacheHits.wrappingIncrement(ordering: .relaxed) }
    }

    var totals: TrafficTotals {
        TrafficTotals(bodyBytes: bodyBytes.load(ordering: .relaxed), cacheHits: cacheHits.load(ordering: .relaxed),
                      cacheLookups: cacheLookups.load(ordering: .relaxed))
    }
}

/// Turns successive readings of the traffic totals into the health a node gossips: egress rate and hit ratio over
/// the interval since the previous reading, the connection count now, and a load score from connections against the
/// limit.
public struct HealthSampler: Sendable {
    private var previous: (time: UInt64, totals: TrafficTotals)?

    public init() {}

    /// - Parameter now: uptime in nanoseconds.
    public mutating func sample(_ totals: TrafficTotals, now: UInt64, connections: Int, maxConnections: Int) -> NodeHealth {
        let before = previous ?? (now - min(now, 1_000_000_000), totals)
        previous = (now, totals)
        let seconds = max(0.001, Double(now.elapsed(since: before.time)) / 1e9)
        // Totals only grow; a smaller reading (another meter, after a restart) counts as no traffic rather than trap.
        func delta(_ now: UInt64, _ then: UInt64) -> UInt64 { now >= then ? now - then : 0 }
        let rate = UInt64(min(Double(UInt64.max / 2), Double(delta(totals.bodyBytes, before.totals.bodyBytes)) / seconds))
        let lookups = delta(totals.cacheLookups, before.totals.cacheLookups)
        let hits = min(delta(totals.cacheHits, before.totals.cacheHits), lookups)
        let hitPermille = lookups == 0 ? 0 : UInt16((Double(hits) * 1000 / Double(lookups)).rounded(.down))
        let load = UInt16(min(1000, max(0, connections) * 1000 / max(1, maxConnections)))
        return NodeHealth(activeConnections: UInt32(clamping: connections), egressBytesPerSecond: rate, cacheHitPermille: hitPermille,
                          loadScore: load)
    }
}
