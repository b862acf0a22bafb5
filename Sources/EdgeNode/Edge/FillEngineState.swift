import EdgeCache
import Manifest

/// What the fill engine must do once its lock is released. Every decision of the engine is a `FillEngineState` call
/// made under the lock that returns these; only `FillEngine.perform` acts on them, with no lock held, so a sink, a
/// fill run, the cache or a metric can never re-enter the engine's lock or wait on it.
enum FillEffect {
    /// Where the sink reads verified bytes from and how it is served (only ever produced by a request, on the sink's
    /// own event loop).
    case prepare(FillSink, reader: SharedFile, outcome: EdgeMetrics.Outcome)
    /// Every byte before `upTo` is verified for the sink.
    case available(FillSink, upTo: Int64)
    /// The sink has everything it asked for.
    case finish(FillSink)
    /// The sink cannot be served.
    case fail(FillSink, status: Int, reason: String)
    /// Fetch `chunks` of `object` from the parents.
    case startRun(fill: Int, object: ObjectFill, chunks: Range<Int>, kind: FillKind)
    /// The sink streams the rest of its bytes from the parents, verified but not stored (the disk is full).
    case streamUncached(FillSink, object: ObjectFill)
    /// The object is complete and verified: make it visible in the cache.
    case commit(ObjectFill)
    /// Nobody needs the partial object any more.
    case discard(ObjectFill)
}

/// Why a fill runs: a viewer waits on it (started at once, or a queued background fill a viewer joined), or it is a
/// prefetch or the completion of an object a range left partial.
enum FillKind: Equatable {
    case viewer
    case promoted
    case background
}

/// The fill engine's decisions: which objects are being filled, who waits on them, which background fills are
/// queued or running. Pure: no I/O, no clock, no call into a sink, the cache, a metric or a lock — every method
/// returns the effects its decision needs. `FillEngine` keeps one of these behind its one lock.
struct FillEngineState {
    typealias Coordinator = FillCoordinator<String, Int>

    /// The answer to a request for bytes of an object.
    enum RequestDecision {
        /// No object is being filled at that path: create one (outside the lock) and ask again with it.
        case needsObject
        /// Act on these. `unused` is an object created for this request that another request's object made
        /// redundant: discard it.
        case effects([FillEffect], unused: ObjectFill?)
    }

    let backgroundConcurrency: Int
    let maximumUncachedStreams: Int
    private(set) var coordinator: Coordinator
    private(set) var objects: [String: ObjectFill] = [:]
    private var sinks: [Int: (sink: FillSink, object: ObjectFill)] = [:]
    private var waiterOfSink: [ObjectIdentifier: Int] = [:]
    private var nextWaiter = 0
    /// Background fills not started yet, oldest first, and those that run.
    private(set) var queued: [(fill: Int, object: String, chunks: Range<Int>)] = []
    private(set) var runningBackground: Set<Int> = []
    private(set) var uncachedStreams = 0

    init(settings: Coordinator.Settings, backgroundConcurrency: Int, maximumUncachedStreams: Int) {
        precondition(backgroundConcurrency > 0 && maximumUncachedStreams >= 0)
        coordinator = Coordinator(settings: settings)
        self.backgroundConcurrency = backgroundConcurrency
        self.maximumUncachedStreams = maximumUncachedStreams
    }

    /// Responses waiting on fills.
    var waitingSinks: Int { sinks.count }

    /// A response wants chunks `wanted` of the object at `path`. `created` is an object made for this request after
    /// a `.needsObject` answer.
    mutating func request(path: String, wanted: Range<Int>, sink: FillSink, created: ObjectFill?, now: UInt64) -> RequestDecision {
        precondition(waiterOfSink[ObjectIdentifier(sink)] == nil, "a sink asks once")
        let object: ObjectFill
        var unused: ObjectFill?
        if let existing = objects[path] {
            object = existing
            unused = created
        } else if let created {
            precondition(created.path == path)
            objects[path] = created
            object = created
        } else {
            return .needsObject
        }
        guard let missing = object.firstMissing(in: wanted) else {
            return .effects([.prepare(sink, reader: object.reader, outcome: .hit), .finish(sink)], unused: unused)
        }
        let waiter = nextWaiter
        nextWaiter += 1
        sinks[waiter] = (sink, object)
        waiterOfSink[ObjectIdentifier(sink)] = waiter
        let directives = coordinator.request(waiter, object: path, chunks: missing..<wanted.upperBound, now: now)
        let started = directives.contains { if case .startFill = $0 { true } else { false } }
        var effects: [FillEffect] = [.prepare(sink, reader: object.reader, outcome: started ? .miss : .coalesced)]
        if missing > wanted.lowerBound { effects.append(.available(sink, upTo: object.endOffset(ofChunk: missing))) }
        if !started, let fill = coordinator.fill(of: waiter) { effects += promote(fill) }
        effects += translate(directives, kind: .viewer)
        return .effects(effects, unused: unused)
    }

    /// The response went away: it stops waiting (the fill goes on, its chunks are worth caching).
    mutating func cancel(_ sink: FillSink) {
        guard let waiter = waiterOfSink.removeValue(forKey: ObjectIdentifier(sink)) else { return }
        sinks[waiter] = nil
        coordinator.cancel(waiter)
    }

    /// Whether a prefetch of `path` has nothing to do because the object is already being filled.
    func isFilling(_ path: String) -> Bool { objects[path] != nil }

    /// Fills `object` (created for this prefetch) in the background; an object some request created meanwhile wins
    /// and `object` comes back as unused.
    mutating func prefetch(_ object: ObjectFill) -> (effects: [FillEffect], unused: ObjectFill?) {
        guard objects[object.path] == nil else { return ([], object) }
        guard let run = object.firstMissingRun() else { return ([], object) }
        objects[object.path] = object
        return (translate(coordinator.background(object: object.path, chunks: run), kind: .background), nil)
    }

    /// Chunks of a fill were verified and written.
    mutating func verified(fill: Int, chunks: [Int], verifiedEnd: Int, object: ObjectFill, now: UInt64) -> [FillEffect] {
        for index in chunks { object.markPresent(index) }
        return translate(coordinator.progress(fill, verifiedEnd: verifiedEnd, now: now), kind: .viewer)
    }

    /// Every parent failed for this fill.
    mutating func failed(fill: Int, object: ObjectFill, status: Int) -> [FillEffect] {
        translate(coordinator.fillFailed(fill), kind: .viewer, upstreamStatus: status) + fillEnded(fill, path: object.path, failed: true)
    }

    /// This node could not store the fill's bytes: every response waiting on it streams the rest uncached (up to the
    /// limit; the others get 503) and the partial object goes.
    mutating func storageFailed(fill: Int, object: ObjectFill) -> [FillEffect] {
        var effects: [FillEffect] = []
        var others: [Coordinator.Directive] = []
        for directive in coordinator.fillFailed(fill) {
            if case .fail(let waiter, _) = directive, let sink = removeSink(waiter) {
                if uncachedStreams < maximumUncachedStreams {
                    uncachedStreams += 1
                    effects.append(.streamUncached(sink, object: object))
                } else {
                    effects.append(.fail(sink, status: 503, reason: "cache disk full"))
                }
            } else {
                others.append(directive)
            }
        }
        return effects + translate(others, kind: .viewer) + fillEnded(fill, path: object.path, failed: true)
    }

    /// An uncached stream ended.
    mutating func uncachedStreamEnded() {
        precondition(uncachedStreams > 0, "an uncached stream ends once")
        uncachedStreams -= 1
    }

    /// The object was committed (or could not be): it is no longer being filled.
    mutating func committed(_ object: ObjectFill) {
        if objects[object.path] === object { objects[object.path] = nil }
    }

    /// Waiters that saw no progress for too long fail.
    mutating func tick(now: UInt64) -> [FillEffect] { translate(coordinator.tick(now: now), kind: .viewer) }

    /// Shutdown: queued fills are dropped.
    mutating func stop() { queued.removeAll() }

    /// A viewer now waits on a queued background fill: it starts at once.
    private mutating func promote(_ fill: Int) -> [FillEffect] {
        guard let index = queued.firstIndex(where: { $0.fill == fill }) else { return [] }
        let item = queued.remove(at: index)
        guard let object = objects[item.object] else { return [] }
        return [.startRun(fill: item.fill, object: object, chunks: item.chunks, kind: .promoted)]
    }

    private mutating func translate(_ directives: [Coordinator.Directive], kind: FillKind, upstreamStatus: Int = 502) -> [FillEffect] {
        var effects: [FillEffect] = []
        for directive in directives {
            switch directive {
            case .startFill(let fill, let path, let chunks):
                guard let object = objects[path] else { continue }
                if kind == .background {
                    queued.append((fill, path, chunks))
                } else {
                    effects.append(.startRun(fill: fill, object: object, chunks: chunks, kind: .viewer))
                }
            case .send(let waiter, _, let chunks):
                if let (sink, object) = sinks[waiter] {
                    effects.append(.available(sink, upTo: object.endOffset(ofChunk: chunks.upperBound)))
                }
            case .finish(let waiter):
                if let sink = removeSink(waiter) { effects.append(.finish(sink)) }
            case .fail(let waiter, let failure):
                guard let sink = removeSink(waiter) else { continue }
                switch failure {
                case .upstreamFailed: effects.append(.fail(sink, status: upstreamStatus, reason: "no parent delivered verified bytes"))
                case .timedOut: effects.append(.fail(sink, status: 504, reason: "parents too slow"))
                case .tooManyWaiters: effects.append(.fail(sink, status: 503, reason: "too many viewers waiting for this object"))
                }
            case .fillCompleted(let fill, let path, _):
                effects += fillEnded(fill, path: path, failed: false)
            }
        }
        return effects + pumpBackground()
    }

    private mutating func removeSink(_ waiter: Int) -> FillSink? {
        guard let (sink, _) = sinks.removeValue(forKey: waiter) else { return nil }
        waiterOfSink[ObjectIdentifier(sink)] = nil
        return sink
    }

    /// Starts queued background fills while fewer than `backgroundConcurrency` run.
    private mutating func pumpBackground() -> [FillEffect] {
        var effects: [FillEffect] = []
        while runningBackground.count < backgroundConcurrency, !queued.isEmpty {
            let item = queued.removeFirst()
            guard let object = objects[item.object] else { continue }
            runningBackground.insert(item.fill)
            effects.append(.startRun(fill: item.fill, object: object, chunks: item.chunks, kind: .background))
        }
        assert(runningBackground.count <= backgroundConcurrency)
        return effects
    }

    /// A fill ended: commit the object when complete, continue filling it when a range left it partial, or drop a
    /// partial object nobody waits for after a failure.
    private mutating func fillEnded(_ fill: Int, path: String, failed: Bool) -> [FillEffect] {
        runningBackground.remove(fill)
        guard let object = objects[path], !object.committing, !coordinator.isFilling(path) else { return pumpBackground() }
        if object.isComplete {
            object.committing = true
            return [.commit(object)] + pumpBackground()
        }
        if failed {
            guard !sinks.values.contains(where: { $0.object === object }) else { return pumpBackground() }
            objects[path] = nil
            return [.discard(object)] + pumpBackground()
        }
        guard let run = object.firstMissingRun() else { return pumpBackground() }
        return translate(coordinator.background(object: path, chunks: run), kind: .background)
    }
}
