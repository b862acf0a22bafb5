import EdgeCache
import Logging
import Manifest
import NIOCore
import NIOHTTP1

/// Where a fill's verified chunks go: into the cache for every waiting viewer (`CacheFillTarget`), or straight to one
/// viewer's response when this node cannot store them (`UncachedFillTarget`).
protocol FillTarget: AnyObject {
    /// True once nothing more is wanted (shutdown, or the one viewer went away): the run stops at its next step.
    var isStopped: Bool { get }
    /// The parent's `Age` for the bytes (RFC 9111 §5.1).
    func noteUpstreamAge(_ seconds: Int64)
    /// Keeps verified chunks, in order; throws when this node cannot store them.
    func accept(_ chunks: [VerifiedChunk], verifiedEnd: Int) throws(StorageError)
    /// Every chunk asked for was delivered.
    func completed()
    /// No parent delivered the chunks (`status` 502 or 504), or this node could not keep them (`local`).
    func failed(status: Int, local: StorageError?)
}

/// One fill: fetches a run of chunks of an object from the parents in turn, verifies every chunk against the signed
/// manifest before handing it to its target, and on a mismatch, truncation, timeout or error marks that parent bad
/// and continues from the next one at the first unverified chunk. Confined to one event loop.
final class FillRun: @unchecked Sendable {
    private let path: String
    private let entry: VerifiedManifest.Entry
    private let chunks: Range<Int>
    private let target: FillTarget
    private let parents: ParentPool
    private let timeout: TimeAmount
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let eventLoop: EventLoop
    private var verifier: ChunkStreamVerifier
    private var sawTimeout = false

    init(path: String, entry: VerifiedManifest.Entry, chunks: Range<Int>, target: FillTarget, parents: ParentPool,
         timeout: TimeAmount, metrics: EdgeMetrics, logger: Logger, eventLoop: EventLoop) {
        self.path = path
        self.entry = entry
        self.chunks = chunks
        self.target = target
        self.parents = parents
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
        self.eventLoop = eventLoop
        verifier = ChunkStreamVerifier(chunks: entry.chunks, startChunk: chunks.lowerBound)
    }

    func start() { attempt(parents.order()[...]) }

    private func attempt(_ remaining: ArraySlice<ParentAddress>) {
        guard !target.isStopped else { return }
        guard let parent = remaining.first else {
            target.failed(status: sawTimeout ? 504 : 502, local: nil)
            return
        }
        verifier = ChunkStreamVerifier(chunks: entry.chunks, startChunk: verifier.nextChunk)
        let range = verifier.nextOffset..<entry.chunks.range(ofChunk: chunks.upperBound - 1).upperBound
        let size = entry.chunks.size
        var rejection: (reason: String, detail: String, marksBad: Bool)?
        var localFailure: StorageError?
        metrics.requested(from: parent.name, kind: .object)
        ParentFetch.start(
            on: eventLoop, parent: parent, request: .init(path: "/" + path, range: range), identity: parents.identity, timeout: timeout,
            onHead: { [self] head in
                let expected = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
                let contentRange = head.headers.first(name: "Content-Range")
                let whole = head.status == .ok && range == 0..<size
                guard (head.status == .partialContent && contentRange == expected) || whole else {
                    let failure = head.status == .partialContent
                        ? ParentFetchError.unexpected("Content-Range \(contentRange ?? "missing"), expected \(expected)")
                        : .status(Int(head.status.code))
                    rejection = (failure.metricReason, failure.description, failure.marksParentBad)
                    return false
                }
                // RFC 9111 §5.1: the age the bytes already had at the parent (delta-seconds; anything else ignored).
                if let age = head.headers.first(name: "Age"), !age.isEmpty, age.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    target.noteUpstreamAge(Int64(age.prefix(10)) ?? 0)
                }
                return true
            },
            onBody: { [self] buffer in
                do {
                    let verified = try verifier.feed(buffer.readableBytesView)
                    guard !verified.isEmpty else { return true }
                    metrics.filled(bytes: verified.reduce(0) { $0 + $1.bytes.count }, from: parent.name)
                    do throws(StorageError) {
                        try target.accept(verified, verifiedEnd: verifier.nextChunk)
                    } catch {
                        localFailure = error
                        return false
                    }
                    return !target.isStopped
                } catch let error as ChunkVerificationError {
                    rejection = (Self.reason(error), error.description, true)
                    return false
                } catch {
                    rejection = ("error", "\(error)", true)
                    return false
                }
            },
            onEnd: { [self] error in
                // Shutting down: the connection was closed by this node, not by the parent.
                guard !target.isStopped else { return }
                if let localFailure {
                    // This node's disk failed, not the parent: no penalty, no refetch from another parent.
                    metrics.cacheWriteFailures.increment()
                    logger.error("cannot store a fill on this node's disk; the parent is not at fault", metadata: [
                        "path": "\(path)", "error": "\(localFailure)"])
                    target.failed(status: 503, local: localFailure)
                    return
                }
                if error == nil, rejection == nil, verifier.nextChunk >= chunks.upperBound {
                    parents.succeeded(parent)
                    target.completed()
                    return
                }
                if error == .timeout { sawTimeout = true }
                let (reason, detail, marksBad) = rejection ?? (error?.metricReason ?? "truncated",
                                                               error?.description ?? ChunkVerificationError.truncated(chunk: verifier.nextChunk).description,
                                                               error?.marksParentBad ?? true)
                if !marksBad {
                    metrics.parentFetched(parent.name, outcome: "not_held")
                    logger.debug("parent does not hold the object", metadata: ["parent": "\(parent.name)", "path": "\(path)"])
                } else {
                    parents.failed(parent, path: path, reason: reason, detail: "\(detail) (from chunk \(verifier.nextChunk))")
                }
                attempt(remaining.dropFirst())
            })
    }

    private static func reason(_ error: ChunkVerificationError) -> String {
        switch error {
        case .mismatch: "mismatch"
        case .overrun: "overrun"
        case .truncated: "truncated"
        }
    }
}
