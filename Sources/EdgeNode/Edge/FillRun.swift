import EdgeCache
import Logging
import NIOCore
import NIOHTTP1

/// One fill: fetches a run of chunks of an object from the parents in turn, verifies every chunk against the signed
/// manifest before writing it, and on a mismatch, truncation, timeout or error marks that parent bad and continues
/// from the next one at the first unverified chunk. Confined to one event loop.
final class FillRun: @unchecked Sendable {
    private let fill: Int
    private let object: ObjectFill
    private let chunks: Range<Int>
    private let engine: FillEngine
    private let parents: ParentPool
    private let nodeName: String
    private let timeout: TimeAmount
    private let metrics: EdgeMetrics
    private let logger: Logger
    private let eventLoop: EventLoop
    private var verifier: ChunkStreamVerifier
    private var sawTimeout = false

    init(fill: Int, object: ObjectFill, chunks: Range<Int>, engine: FillEngine, parents: ParentPool, nodeName: String,
         timeout: TimeAmount, metrics: EdgeMetrics, logger: Logger, eventLoop: EventLoop) {
        self.fill = fill
        self.object = object
        self.chunks = chunks
        self.engine = engine
        self.parents = parents
        self.nodeName = nodeName
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
        self.eventLoop = eventLoop
        verifier = ChunkStreamVerifier(chunks: object.entry.chunks, startChunk: chunks.lowerBound)
    }

    func start() { attempt(parents.order()[...]) }

    private func attempt(_ remaining: ArraySlice<ParentAddress>) {
        guard !engine.isStopped else { return }
        guard let parent = remaining.first else {
            engine.failed(fill: fill, object: object, status: sawTimeout ? 504 : 502)
            return
        }
        verifier = ChunkStreamVerifier(chunks: object.entry.chunks, startChunk: verifier.nextChunk)
        let range = verifier.nextOffset..<object.endOffset(ofChunk: chunks.upperBound)
        let size = object.entry.chunks.size
        var rejection: (reason: String, detail: String, marksBad: Bool)?
        var localFailure: StorageError?
        metrics.requested(from: parent.name, kind: .object)
        ParentFetch.start(
            on: eventLoop, parent: parent, request: .init(path: "/" + object.path, range: range), via: nodeName, timeout: timeout,
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
                    object.partial.noteUpstreamAge(Int64(age.prefix(10)) ?? 0)
                }
                return true
            },
            onBody: { [self] buffer in
                do {
                    let verified = try verifier.feed(buffer.readableBytesView)
                    guard !verified.isEmpty else { return true }
                    do throws(StorageError) {
                        for chunk in verified { try engine.store(chunk.bytes, at: chunk.offset, in: object) }
                    } catch {
                        localFailure = error
                        return false
                    }
                    metrics.filled(bytes: verified.reduce(0) { $0 + $1.bytes.count }, from: parent.name)
                    engine.verified(fill: fill, chunks: verified.map(\.index), verifiedEnd: verifier.nextChunk, object: object)
                    return true
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
                guard !engine.isStopped else { return }
                if let localFailure {
                    // This node's disk failed, not the parent: no penalty, no refetch from another parent.
                    metrics.cacheWriteFailures.increment()
                    logger.error("cannot store a fill on this node's disk; the parent is not at fault", metadata: [
                        "path": "\(object.path)", "error": "\(localFailure)"])
                    engine.failed(fill: fill, object: object, status: 503)
                    return
                }
                if error == nil, rejection == nil, verifier.nextChunk >= chunks.upperBound {
                    parents.succeeded(parent)
                    return
                }
                if error == .timeout { sawTimeout = true }
                let (reason, detail, marksBad) = rejection ?? (error?.metricReason ?? "truncated",
                                                               error?.description ?? ChunkVerificationError.truncated(chunk: verifier.nextChunk).description,
                                                               error?.marksParentBad ?? true)
                if !marksBad {
                    logger.debug("parent does not hold the object", metadata: ["parent": "\(parent.name)", "path": "\(object.path)"])
                } else {
                    parents.failed(parent, path: object.path, reason: reason, detail: "\(detail) (from chunk \(verifier.nextChunk))")
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
