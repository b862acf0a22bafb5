/// Coalesces concurrent misses: any number of requests for chunks of an object that is being filled wait on that one
/// fill, and each is told as soon as the chunks it needs have been verified — streaming from the first chunk, not
/// after the whole object. Waits are bounded (a timeout without progress, a cap on waiters per object) and a failed
/// fill fails its waiters. Pure: inputs carry the time, outputs are directives for the I/O shell.
public struct FillCoordinator<Object: Hashable & Sendable, Waiter: Hashable & Comparable & Sendable>: Sendable {
    /// Identifies one upstream fill.
    public typealias FillID = Int

    /// Limits.
    public struct Settings: Sendable {
        /// A waiter that sees no new chunk for this long fails (504).
        public var waitTimeoutNanoseconds: UInt64
        /// Waiters per object beyond this are refused (503).
        public var maximumWaiters: Int
        /// A request joins a fill only if the chunk it needs first is verified or at most this many chunks ahead of
        /// the fill's progress; otherwise it starts its own fill there.
        public var joinWindowChunks: Int

        public init(waitTimeoutNanoseconds: UInt64 = 10_000_000_000, maximumWaiters: Int = 10_000, joinWindowChunks: Int = 16) {
            self.waitTimeoutNanoseconds = waitTimeoutNanoseconds
            self.maximumWaiters = maximumWaiters
            self.joinWindowChunks = joinWindowChunks
        }
    }

    /// Why a waiter was not served.
    public enum Failure: Equatable, Sendable {
        case upstreamFailed
        case timedOut
        case tooManyWaiters
    }

    /// What the shell must do.
    public enum Directive: Equatable, Sendable {
        /// Fetch and verify these chunks of the object from a parent, in order.
        case startFill(FillID, object: Object, chunks: Range<Int>)
        /// These chunks of the fill are verified: send them to the waiter (it has received everything before them).
        case send(Waiter, fill: FillID, chunks: Range<Int>)
        /// The waiter has everything it asked for. (A waiter whose range runs past its fill continues on a fill of
        /// the rest, started or joined as needed, before it finishes.)
        case finish(Waiter)
        /// The waiter cannot be served; a response already started must be cut off.
        case fail(Waiter, Failure)
        /// The fill verified all its chunks: they may be committed to the cache.
        case fillCompleted(FillID, object: Object, chunks: Range<Int>)
    }

    private struct Fill {
        let object: Object
        let chunks: Range<Int>
        /// Chunks before this index are verified.
        var verifiedEnd: Int
    }

    private struct Waiting {
        var fill: FillID
        let object: Object
        /// The next chunk to send, and the end of what was asked for.
        var next: Int
        let end: Int
        var lastProgress: UInt64
    }

    public let settings: Settings
    private var fills: [FillID: Fill] = [:]
    private var waiters: [Waiter: Waiting] = [:]
    private var waitersByFill: [FillID: Set<Waiter>] = [:]
    private var nextFill = 0

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Fills under way.
    public var activeFills: Int { fills.count }

    /// A request for `chunks` of `object` (its cache missed). Joins a fill that has, or is about to have, the first
    /// chunk needed, or starts one for exactly the chunks asked: a range near the end of a large object does not wait
    /// behind a fill that is still at its start.
    public mutating func request(_ waiter: Waiter, object: Object, chunks: Range<Int>, now: UInt64) -> [Directive] {
        precondition(waiters[waiter] == nil, "waiter already waiting")
        guard !chunks.isEmpty else { return [.finish(waiter)] }
        var directives: [Directive] = []
        guard let fillID = attach(waiter, object: object, from: chunks.lowerBound, to: chunks.upperBound, directives: &directives) else {
            return [.fail(waiter, .tooManyWaiters)]
        }
        waiters[waiter] = Waiting(fill: fillID, object: object, next: chunks.lowerBound, end: chunks.upperBound, lastProgress: now)
        directives += deliver(to: waiter, now: now)
        return directives
    }

    /// The fill that will deliver chunk `from` of `object` — an existing one, or a new one up to `to` — with
    /// `waiter` registered on it; nil when the existing one has too many waiters.
    private mutating func attach(_ waiter: Waiter, object: Object, from: Int, to: Int, directives: inout [Directive]) -> FillID? {
        let window = settings.joinWindowChunks
        if let (existing, _) = fills.first(where: { _, fill in
            fill.object == object && fill.chunks.contains(from) && from < fill.verifiedEnd + window
        }) {
            guard (waitersByFill[existing]?.count ?? 0) < settings.maximumWaiters else { return nil }
            waitersByFill[existing, default: []].insert(waiter)
            return existing
        }
        let fillID = nextFill
        nextFill += 1
        fills[fillID] = Fill(object: object, chunks: from..<to, verifiedEnd: from)
        waitersByFill[fillID] = [waiter]
        directives.append(.startFill(fillID, object: object, chunks: from..<to))
        return fillID
    }

    /// Starts a fill of `chunks` that no viewer waits for (prefetch, completing an object after range fills), unless
    /// a fill of `object` already covers its first chunk. Returns the `startFill`, if any.
    public mutating func background(object: Object, chunks: Range<Int>) -> [Directive] {
        guard !chunks.isEmpty, !fills.values.contains(where: { $0.object == object && $0.chunks.contains(chunks.lowerBound) }) else {
            return []
        }
        let fillID = nextFill
        nextFill += 1
        fills[fillID] = Fill(object: object, chunks: chunks, verifiedEnd: chunks.lowerBound)
        waitersByFill[fillID] = []
        return [.startFill(fillID, object: object, chunks: chunks)]
    }

    /// The fill `waiter` is waiting on, if it is waiting.
    public func fill(of waiter: Waiter) -> FillID? { waiters[waiter]?.fill }

    /// Whether a fill of `object` is under way.
    public func isFilling(_ object: Object) -> Bool { fills.values.contains { $0.object == object } }

    /// The fill has verified every chunk before `verifiedEnd`.
    public mutating func progress(_ fillID: FillID, verifiedEnd: Int, now: UInt64) -> [Directive] {
        guard var fill = fills[fillID], verifiedEnd > fill.verifiedEnd else { return [] }
        fill.verifiedEnd = min(verifiedEnd, fill.chunks.upperBound)
        fills[fillID] = fill
        var directives: [Directive] = []
        for waiter in (waitersByFill[fillID] ?? []).sorted() {
            directives += deliver(to: waiter, now: now)
        }
        if fill.verifiedEnd == fill.chunks.upperBound {
            fills[fillID] = nil
            waitersByFill[fillID] = nil
            directives.append(.fillCompleted(fillID, object: fill.object, chunks: fill.chunks))
        }
        return directives
    }

    /// Every parent failed: waiters still missing chunks fail.
    public mutating func fillFailed(_ fillID: FillID) -> [Directive] {
        guard fills.removeValue(forKey: fillID) != nil else { return [] }
        let affected = waitersByFill.removeValue(forKey: fillID) ?? []
        return affected.sorted().map { waiter in
            waiters[waiter] = nil
            return .fail(waiter, .upstreamFailed)
        }
    }

    /// Fails waiters that have seen no progress within the timeout.
    public mutating func tick(now: UInt64) -> [Directive] {
        let expired = waiters.filter { now >= $0.value.lastProgress && now - $0.value.lastProgress > settings.waitTimeoutNanoseconds }
        return expired.keys.sorted().map { waiter in
            remove(waiter)
            return .fail(waiter, .timedOut)
        }
    }

    /// The viewer went away. The fill goes on (its chunks are worth caching).
    public mutating func cancel(_ waiter: Waiter) { remove(waiter) }

    private mutating func deliver(to waiter: Waiter, now: UInt64) -> [Directive] {
        guard var waiting = waiters[waiter], let fill = fills[waiting.fill] else { return [] }
        var directives: [Directive] = []
        let available = min(fill.verifiedEnd, waiting.end)
        if available > waiting.next {
            directives.append(.send(waiter, fill: waiting.fill, chunks: waiting.next..<available))
            waiting.next = available
            waiting.lastProgress = now
            waiters[waiter] = waiting
        }
        if waiting.next == waiting.end {
            remove(waiter)
            directives.append(.finish(waiter))
        } else if waiting.next == fill.chunks.upperBound {
            // This fill ends before the request does: continue on a fill of the rest.
            waitersByFill[waiting.fill]?.remove(waiter)
            guard let next = attach(waiter, object: waiting.object, from: waiting.next, to: waiting.end, directives: &directives) else {
                waiters[waiter] = nil
                return directives + [.fail(waiter, .tooManyWaiters)]
            }
            waiting.fill = next
            waiters[waiter] = waiting
            directives += deliver(to: waiter, now: now)
        }
        return directives
    }

    private mutating func remove(_ waiter: Waiter) {
        guard let waiting = waiters.removeValue(forKey: waiter) else { return }
        waitersByFill[waiting.fill]?.remove(waiter)
    }
}
