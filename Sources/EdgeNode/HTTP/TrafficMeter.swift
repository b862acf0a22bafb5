import Atomics
import Dispatch
import Gossip
import NIOConcurrencyHelpers

/// What the data plane has sent, and how the cache has answered: the raw material of the health a node gossips.
final class TrafficMeter: Sendable {
    private let bodyBytes = ManagedAtomic<UInt64>(0)
    private let cacheHits = ManagedAtomic<UInt64>(0)
    private let cacheLookups = ManagedAtomic<UInt64>(0)
    private let lastSample = NIOLockedValueBox<(time: UInt64, bytes: UInt64, hits: UInt64, lookups: UInt64)>((0, 0, 0, 0))

    /// A response body of `bytes` is being sent.
    func sending(_ bytes: UInt64) { bodyBytes.wrappingIncrement(by: bytes, ordering: .relaxed) }

    /// A caching node answered from its cache (`hit`) or had to fill.
    func cacheAnswered(hit: Bool) {
        cacheLookups.wrappingIncrement(ordering: .relaxed)
        if hit { cacheHits.wrappingIncrement(ordering: .relaxed) }
    }

    /// Health since the previous sample: egress rate and hit ratio over the interval, `connections` now, and a load
    /// score from the connection count against `maxConnections`.
    func sample(connections: Int, maxConnections: Int) -> NodeHealth {
        let now = DispatchTime.now().uptimeNanoseconds
        let bytes = bodyBytes.load(ordering: .relaxed), hits = cacheHits.load(ordering: .relaxed)
        let lookups = cacheLookups.load(ordering: .relaxed)
        let previous = lastSample.withLockedValue { sample in
            defer { sample = (now, bytes, hits, lookups) }
            return sample
        }
        let seconds = previous.time == 0 ? 1 : max(0.001, Double(now - previous.time) / 1e9)
        let rate = UInt64(Double(bytes &- previous.bytes) / seconds)
        let newLookups = lookups &- previous.lookups
        let hitPermille = newLookups == 0 ? 0 : UInt16((hits &- previous.hits) * 1000 / newLookups)
        let load = UInt16(min(1000, connections * 1000 / max(1, maxConnections)))
        return NodeHealth(activeConnections: UInt32(clamping: connections), egressBytesPerSecond: rate, cacheHitPermille: hitPermille,
                          loadScore: load)
    }
}
