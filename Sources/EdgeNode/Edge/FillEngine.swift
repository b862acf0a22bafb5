import Atomics
import Foundation
import Dispatch
import EdgeCache
import Logging
import Manifest
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The I/O shell around `FillEngineState`: turns cache misses into fills from parents, streams verified chunks to
/// every waiting response, commits complete objects to the disk cache, completes objects that range requests left
/// partial, and runs prefetches — viewer fills at once, background fills at most `backgroundConcurrency` at a time.
///
/// One lock, one rule: `lock` guards `state` and nothing else, and under it only `FillEngineState` runs — pure code
/// that calls no sink, fill run, cache, metric or logger. Each entry point decides under the lock, releases it, then
/// performs the effects the decision returned. Cache I/O (creating a partial object) happens before or after, never
/// under it; `isStopped` is an atomic read, so a fill run may ask it from anywhere.
final class FillEngine: @unchecked Sendable {
    /// The outcome of a request for bytes of an object.
    enum Start {
        /// The object was committed meanwhile: serve it from the cache.
        case committed
        /// The sink will be called.
        case waiting
    }

    static let backgroundConcurrency = 2
    /// At most this many responses stream uncached at once (each holds up to one object in memory if its viewer
    /// reads more slowly than the parent sends); more get 503 until the disk has room again.
    static let maximumUncachedStreams = 32

    private let cache: DiskCache
    private let parents: ParentPool
    private let group: EventLoopGroup
    private let timeout: TimeAmount
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let commitQueue = DispatchQueue(label: "edgenode.cache-commit")

    private let lock = NIOLock()
    private var state: FillEngineState
    /// Set on shutdown: no fill starts or continues.
    private let stopped = ManagedAtomic(false)
    private let ticker = NIOLockedValueBox<RepeatedTask?>(nil)

    init(cache: DiskCache, parents: ParentPool, group: EventLoopGroup, timeout: TimeAmount,
         settings: FillCoordinator<String, Int>.Settings, metrics: EdgeMetrics, logger: Logger) {
        self.cache = cache
        self.parents = parents
        self.group = group
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
        state = FillEngineState(settings: settings, backgroundConcurrency: Self.backgroundConcurrency,
                                maximumUncachedStreams: Self.maximumUncachedStreams)
        let task = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.tick()
        }
        ticker.withLockedValue { $0 = task }
    }

    /// Shutdown: queued fills are dropped and running ones stop at their next step (before the event loops go).
    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        lock.withLock { state.stop() }
        ticker.withLockedValue { task in
            defer { task = nil }
            return task
        }?.cancel()
    }

    /// Whether the engine was stopped (lock-free).
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    /// A response wants `bytes` of the object at `path` (listed in the manifest as `entry`). Called on the sink's
    /// event loop.
    func request(path: String, entry: VerifiedManifest.Entry, bytes: Range<Int64>, sink: FillSink) -> Start {
        if cache.contains(path) { return .committed }
        let chunkSize = Int64(entry.chunks.chunkSize)
        let wanted = Int(bytes.lowerBound / chunkSize)..<Int((bytes.upperBound + chunkSize - 1) / chunkSize)
        var created: ObjectFill?
        while true {
            let decision = lock.withLock { state.request(path: path, wanted: wanted, sink: sink, created: created, now: Self.now()) }
            switch decision {
            case .needsObject:
                do {
                    created = try makeObject(path, entry: entry)
                } catch {
                    sink.fail(status: 503, reason: "cache unavailable: \(error)")
                    return .waiting
                }
            case .effects(let effects, let unused):
                if let unused { cache.discard(unused.partial) }
                perform(effects)
                return .waiting
            }
        }
    }

    /// The response went away: it stops waiting (the fill goes on, its chunks are worth caching).
    func cancel(_ sink: FillSink) {
        lock.withLock { state.cancel(sink) }
    }

    /// Fills `path` in the background unless it is cached or already being filled.
    func prefetch(path: String, entry: VerifiedManifest.Entry) {
        guard !cache.contains(path), !lock.withLock({ state.isFilling(path) }),
              let object = try? makeObject(path, entry: entry) else { return }
        let (effects, unused) = lock.withLock { state.prefetch(object) }
        if let unused { cache.discard(unused.partial) }
        perform(effects)
    }

    /// A partial object for `path` in the cache (file I/O: never called under the lock).
    private func makeObject(_ path: String, entry: VerifiedManifest.Entry) throws(StorageError) -> ObjectFill {
        let partial = try cache.beginWrite(path, size: entry.chunks.size)
        return ObjectFill(path: path, entry: entry, partial: partial, reader: SharedFile(descriptor: partial.duplicateDescriptor()))
    }

    /// Acts on what a decision returned. Called with the lock released.
    private func perform(_ effects: [FillEffect]) {
        for effect in effects {
            switch effect {
            case .prepare(let sink, let reader, let outcome):
                sink.prepare(reader: reader, outcome: outcome)
            case .available(let sink, let offset):
                sink.available(upTo: offset)
            case .finish(let sink):
                sink.finish()
            case .fail(let sink, let status, let reason):
                sink.fail(status: status, reason: reason)
            case .startRun(let fill, let object, let chunks, let kind):
                startRun(fill: fill, object: object, chunks: chunks, kind: kind)
            case .streamUncached(let sink, let object):
                streamUncached(sink, path: object.path, entry: object.entry)
            case .commit(let object):
                commitQueue.async { self.commit(object) }
            case .discard(let object):
                cache.discard(object.partial)
            }
        }
    }

    private func startRun(fill: Int, object: ObjectFill, chunks: Range<Int>, kind: FillKind) {
        guard !isStopped else { return }
        switch kind {
        case .viewer, .promoted: metrics.viewerFills.increment()
        case .background: metrics.backgroundFills.increment()
        }
        let eventLoop = group.next()
        let run = FillRun(path: object.path, entry: object.entry, chunks: chunks, target: CacheFillTarget(engine: self, fill: fill, object: object),
                          parents: parents, timeout: timeout, metrics: metrics, logger: logger, eventLoop: eventLoop)
        eventLoop.execute { run.start() }
    }

    /// Chunks of a fill were verified and written (called by its run).
    func verified(fill: Int, chunks: [Int], verifiedEnd: Int, object: ObjectFill) {
        perform(lock.withLock { state.verified(fill: fill, chunks: chunks, verifiedEnd: verifiedEnd, object: object, now: Self.now()) })
    }

    /// Writes verified bytes into the object. When this node's file system is full before its byte budget is, the
    /// least valuable objects are evicted to make room and the write is tried once more; a write that still fails is
    /// this node's problem, reported as such (never a parent's).
    func store<Bytes: ContiguousBytes>(_ bytes: Bytes, at offset: Int64, in object: ObjectFill) throws(StorageError) {
        do {
            try object.partial.write(bytes, at: offset)
        } catch {
            let room = max(Int64(bytes.withUnsafeBytes { $0.count }) * 16, 8 << 20)
            let evicted = cache.makeRoom(bytes: room)
            metrics.diskFullEvictions.increment()
            if !evicted.isEmpty { metrics.evictedObjects.increment(by: evicted.count) }
            logger.warning("cannot write to the cache; evicted objects to make room", metadata: [
                "error": "\(error)", "evicted": "\(evicted.count)", "path": "\(object.path)"])
            try object.partial.write(bytes, at: offset)
        }
    }

    /// This node could not store the fill's bytes even after making room (called by its run): every response waiting
    /// on it streams the rest of its bytes from the parents, verified but not cached, and the partial object goes.
    func storageFailed(fill: Int, object: ObjectFill) {
        metrics.failedFills.increment()
        perform(lock.withLock { state.storageFailed(fill: fill, object: object) })
    }

    private func streamUncached(_ sink: FillSink, path: String, entry: VerifiedManifest.Entry) {
        metrics.uncachedResponses.increment()
        logger.warning("cache disk full: serving through without caching", metadata: ["path": "\(path)"])
        let chunkSize = Int64(entry.chunks.chunkSize)
        sink.streamUncached { [self] bytes, eventLoop, deliver, end in
            let chunks = Int(bytes.lowerBound / chunkSize)..<Int((bytes.upperBound + chunkSize - 1) / chunkSize)
            let target = UncachedFillTarget(deliver: deliver, end: { [self] status in
                lock.withLock { state.uncachedStreamEnded() }
                end(status)
            }, engineStopped: { [self] in isStopped })
            guard !chunks.isEmpty else {
                target.completed()
                return
            }
            FillRun(path: path, entry: entry, chunks: chunks, target: target, parents: parents, timeout: timeout,
                    metrics: metrics, logger: logger, eventLoop: eventLoop).start()
        }
    }

    /// Every parent failed for this fill (called by its run).
    func failed(fill: Int, object: ObjectFill, status: Int) {
        metrics.failedFills.increment()
        perform(lock.withLock { state.failed(fill: fill, object: object, status: status) })
    }

    private func commit(_ object: ObjectFill) {
        do {
            let evicted = try cache.commit(object.partial)
            metrics.committedObjects.increment()
            if !evicted.isEmpty { metrics.evictedObjects.increment(by: evicted.count) }
        } catch {
            logger.error("cannot commit a verified object to the cache", metadata: ["path": "\(object.path)", "error": "\(error)"])
            cache.discard(object.partial)
        }
        lock.withLock { state.committed(object) }
    }

    /// One of the engine's event loops.
    func anyLoop() -> EventLoop { group.next() }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func tick() {
        perform(lock.withLock { state.tick(now: Self.now()) })
    }
}
