import EdgeCache

/// The deterministic generator randomized tests use, so a failure replays from its seed (SplitMix64, shared with
/// the cache simulations).
public typealias SeededGenerator = SplitMix64
