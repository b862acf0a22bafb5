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

/// The I/O shell around `FillCoordinator`: turns cache misses into fills from parents, streams verified chunks to
/// every waiting response, commits complete objects to the disk cache, completes objects that range requests left
/// partial, and runs prefetches — viewer fills at once, background fills at most `backgroundConcurrency` at a time.
final class FillEngine: @unchecked Sendable {
    typealias Coordinator = FillCoordinator<String, Int>

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
    private let nodeName: String
    private let timeout: TimeAmount
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let commitQueue = DispatchQueue(label: "edgenode.cache-commit")

    private let lock = NIOLock()
    private var coordinator: Coordinator
    private var objects: [String: ObjectFill] = [:]
    private var sinks: [Int: (sink: FillSink, object: ObjectFill)] = [:]
    private var waiterOfSink: [ObjectIdentifier: Int] = [:]
    private var nextWaiter = 0
    /// Background fills not started yet, oldest first, and how many run.
    private var queued: [(fill: Int, object: String, chunks: Range<Int>)] = []
    private var runningBackground: Set<Int> = []
    private var uncachedStreams = 0
    private var ticker: RepeatedTask?
    /// Set on shutdown: no fill starts or continues.
    private var stopped = false

    init(cache: DiskCache, parents: ParentPool, group: EventLoopGroup, nodeName: String, timeout: TimeAmount,
         settings: Coordinator.Settings, metrics: EdgeMetrics, logger: Logger) {
        self.cache = cache
        self.parents = parents
        self.group = group
        self.nodeName = nodeName
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
        coordinator = Coordinator(settings: settings)
        ticker = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.tick()
        }
    }

    /// Shutdown: queued fills are dropped and running ones stop at their next step (before the event loops go).
    func stop() {
        let ticker = lock.withLock {
            stopped = true
            queued.removeAll()
            defer { self.ticker = nil }
            return self.ticker
        }
        ticker?.cancel()
    }

    /// Whether the engine was stopped.
    var isStopped: Bool { lock.withLock { stopped } }

    /// A response wants `bytes` of the object at `path` (listed in the manifest as `entry`). Called on the sink's
    /// event loop.
    func request(path: String, entry: VerifiedManifest.Entry, bytes: Range<Int64>, sink: FillSink) -> Start {
        let chunkSize = Int64(entry.chunks.chunkSize)
        let wanted = Int(bytes.lowerBound / chunkSize)..<Int((bytes.upperBound + chunkSize - 1) / chunkSize)
        enum Plan {
            case committed
            case failed(String)
            case ready(ObjectFill, EdgeMetrics.Outcome, verifiedPrefixEnd: Int, directives: [Coordinator.Directive])
            /// Every chunk asked for is already verified in the partial object.
            case present(ObjectFill)
        }
        let plan: Plan = lock.withLock {
            if cache.contains(path) { return .committed }
            let object: ObjectFill
            do {
                object = try objectLocked(path, entry: entry)
            } catch {
                return .failed("\(error)")
            }
            guard let missing = object.firstMissing(in: wanted) else { return .present(object) }
            let waiter = nextWaiter
            nextWaiter += 1
            sinks[waiter] = (sink, object)
            waiterOfSink[ObjectIdentifier(sink)] = waiter
            let directives = coordinator.request(waiter, object: path, chunks: missing..<wanted.upperBound, now: Self.now())
            let started = directives.contains { if case .startFill = $0 { true } else { false } }
            if !started, let fill = coordinator.fill(of: waiter) { promoteLocked(fill) }
            return .ready(object, started ? .miss : .coalesced, verifiedPrefixEnd: missing, directives: directives)
        }
        switch plan {
        case .committed:
            return .committed
        case .failed(let reason):
            sink.fail(status: 503, reason: "cache unavailable: \(reason)")
            return .waiting
        case .present(let object):
            sink.prepare(reader: object.reader, outcome: .hit)
            sink.finish()
            return .waiting
        case .ready(let object, let outcome, let prefixEnd, let directives):
            sink.prepare(reader: object.reader, outcome: outcome)
            if prefixEnd > wanted.lowerBound { sink.available(upTo: object.endOffset(ofChunk: prefixEnd)) }
            execute(directives, kind: .viewer)
            return .waiting
        }
    }

    /// The response went away: it stops waiting (the fill goes on, its chunks are worth caching).
    func cancel(_ sink: FillSink) {
        lock.withLock {
            guard let waiter = waiterOfSink.removeValue(forKey: ObjectIdentifier(sink)) else { return }
            sinks[waiter] = nil
            coordinator.cancel(waiter)
        }
    }

    /// Fills `path` in the background unless it is cached or already being filled.
    func prefetch(path: String, entry: VerifiedManifest.Entry) {
        let directives: [Coordinator.Directive] = lock.withLock {
            guard !cache.contains(path), objects[path] == nil, let object = try? objectLocked(path, entry: entry),
                  let run = object.firstMissingRun() else { return [] }
            return coordinator.background(object: path, chunks: run)
        }
        execute(directives, kind: .background)
    }

    private enum Kind { case viewer, background }

    private func objectLocked(_ path: String, entry: VerifiedManifest.Entry) throws(StorageError) -> ObjectFill {
        if let existing = objects[path] { return existing }
        let partial = try cache.beginWrite(path, size: entry.chunks.size)
        let object = ObjectFill(path: path, entry: entry, partial: partial, reader: SharedFile(descriptor: partial.duplicateDescriptor()))
        objects[path] = object
        return object
    }

    /// A viewer now waits on a queued background fill: it starts at once.
    private func promoteLocked(_ fill: Int) {
        guard let index = queued.firstIndex(where: { $0.fill == fill }) else { return }
        let item = queued.remove(at: index)
        let object = objects[item.object]!
        metrics.viewerFills.increment()
        startRun(fill: item.fill, object: object, chunks: item.chunks)
    }

    private func execute(_ directives: [Coordinator.Directive], kind: Kind, upstreamStatus: Int = 502) {
        for directive in directives {
            switch directive {
            case .startFill(let fill, let path, let chunks):
                let object: ObjectFill? = lock.withLock {
                    guard let object = objects[path] else { return nil }
                    if kind == .background {
                        queued.append((fill, path, chunks))
                        return nil
                    }
                    return object
                }
                if let object {
                    metrics.viewerFills.increment()
                    startRun(fill: fill, object: object, chunks: chunks)
                }
            case .send(let waiter, _, let chunks):
                if let (sink, object) = lock.withLock({ sinks[waiter] }) {
                    sink.available(upTo: object.endOffset(ofChunk: chunks.upperBound))
                }
            case .finish(let waiter):
                removeSink(waiter)?.finish()
            case .fail(let waiter, let failure):
                let sink = removeSink(waiter)
                switch failure {
                case .upstreamFailed: sink?.fail(status: upstreamStatus, reason: "no parent delivered verified bytes")
                case .timedOut: sink?.fail(status: 504, reason: "parents too slow")
                case .tooManyWaiters: sink?.fail(status: 503, reason: "too many viewers waiting for this object")
                }
            case .fillCompleted(let fill, let path, _):
                fillEnded(fill, path: path, failed: false)
            }
        }
        pumpBackground()
    }

    private func removeSink(_ waiter: Int) -> FillSink? {
        lock.withLock {
            guard let (sink, _) = sinks.removeValue(forKey: waiter) else { return nil }
            waiterOfSink[ObjectIdentifier(sink)] = nil
            return sink
        }
    }

    /// Starts queued background fills while fewer than `backgroundConcurrency` run.
    private func pumpBackground() {
        let starts: [(Int, ObjectFill, Range<Int>)] = lock.withLock {
            var starts: [(Int, ObjectFill, Range<Int>)] = []
            while runningBackground.count < Self.backgroundConcurrency, !queued.isEmpty {
                let item = queued.removeFirst()
                guard let object = objects[item.object] else { continue }
                runningBackground.insert(item.fill)
                starts.append((item.fill, object, item.chunks))
            }
            return starts
        }
        for (fill, object, chunks) in starts {
            metrics.backgroundFills.increment()
            startRun(fill: fill, object: object, chunks: chunks)
        }
    }

    private func startRun(fill: Int, object: ObjectFill, chunks: Range<Int>) {
        guard !isStopped else { return }
        let eventLoop = group.next()
        let run = FillRun(path: object.path, entry: object.entry, chunks: chunks, target: CacheFillTarget(engine: self, fill: fill, object: object),
                          parents: parents, nodeName: nodeName, timeout: timeout, metrics: metrics, logger: logger, eventLoop: eventLoop)
        eventLoop.execute { run.start() }
    }

    /// Chunks of a fill were verified and written (called by its run).
    func verified(fill: Int, chunks: [Int], verifiedEnd: Int, object: ObjectFill) {
        let directives = lock.withLock {
            for index in chunks { object.markPresent(index) }
            return coordinator.progress(fill, verifiedEnd: verifiedEnd, now: Self.now())
        }
        execute(directives, kind: .viewer)
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
        let directives = lock.withLock { coordinator.fillFailed(fill) }
        var others: [Coordinator.Directive] = []
        for directive in directives {
            if case .fail(let waiter, _) = directive, let sink = removeSink(waiter) {
                streamUncached(sink, path: object.path, entry: object.entry)
            } else {
                others.append(directive)
            }
        }
        execute(others, kind: .viewer)
        fillEnded(fill, path: object.path, failed: true)
    }

    private func streamUncached(_ sink: FillSink, path: String, entry: VerifiedManifest.Entry) {
        let admitted = lock.withLock {
            guard uncachedStreams < Self.maximumUncachedStreams else { return false }
            uncachedStreams += 1
            return true
        }
        guard admitted else {
            sink.fail(status: 503, reason: "cache disk full")
            return
        }
        metrics.uncachedResponses.increment()
        logger.warning("cache disk full: serving through without caching", metadata: ["path": "\(path)"])
        let chunkSize = Int64(entry.chunks.chunkSize)
        sink.streamUncached { [self] bytes, eventLoop, deliver, end in
            let chunks = Int(bytes.lowerBound / chunkSize)..<Int((bytes.upperBound + chunkSize - 1) / chunkSize)
            let target = UncachedFillTarget(deliver: deliver, end: { [self] status in
                lock.withLock { uncachedStreams -= 1 }
                end(status)
            }, engineStopped: { [self] in isStopped })
            guard !chunks.isEmpty else {
                target.completed()
                return
            }
            FillRun(path: path, entry: entry, chunks: chunks, target: target, parents: parents, nodeName: nodeName, timeout: timeout,
                    metrics: metrics, logger: logger, eventLoop: eventLoop).start()
        }
    }

    /// Every parent failed for this fill (called by its run).
    func failed(fill: Int, object: ObjectFill, status: Int) {
        metrics.failedFills.increment()
        let directives = lock.withLock { coordinator.fillFailed(fill) }
        execute(directives, kind: .viewer, upstreamStatus: status)
        fillEnded(fill, path: object.path, failed: true)
    }

    /// A fill ended: commit the object when complete, continue filling it when a range left it partial, or drop a
    /// partial object nobody waits for after a failure.
    private func fillEnded(_ fill: Int, path: String, failed: Bool) {
        enum Next { case none, commit(ObjectFill), discard(ObjectFill), complete([Coordinator.Directive]) }
        let next: Next = lock.withLock {
            runningBackground.remove(fill)
            guard let object = objects[path], !object.committing, !coordinator.isFilling(path) else { return .none }
            if object.isComplete {
                object.committing = true
                return .commit(object)
            }
            if failed {
                guard !sinks.values.contains(where: { $0.object === object }) else { return .none }
                objects[path] = nil
                return .discard(object)
            }
            guard let run = object.firstMissingRun() else { return .none }
            return .complete(coordinator.background(object: path, chunks: run))
        }
        switch next {
        case .none:
            break
        case .commit(let object):
            commitQueue.async { self.commit(object) }
        case .discard(let object):
            cache.discard(object.partial)
        case .complete(let directives):
            execute(directives, kind: .background)
        }
        pumpBackground()
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
        lock.withLock { _ = objects[object.path] === object ? objects.removeValue(forKey: object.path) : nil }
    }

    /// One of the engine's event loops.
    func anyLoop() -> EventLoop { group.next() }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private func tick() {
        let directives = lock.withLock { coordinator.tick(now: Self.now()) }
        if !directives.isEmpty { execute(directives, kind: .viewer) }
    }
}
