import EdgeCache
import NIOCore

/// A fill into the cache: chunks are written to the object's partial file and announced to the engine, which tells
/// every waiting response.
final class CacheFillTarget: FillTarget, @unchecked Sendable {
    private let engine: FillEngine
    private let fill: Int
    private let object: ObjectFill

    init(engine: FillEngine, fill: Int, object: ObjectFill) {
        self.engine = engine
        self.fill = fill
        self.object = object
    }

    var isStopped: Bool { engine.isStopped }

    func noteUpstreamAge(_ seconds: Int64) { object.partial.noteUpstreamAge(seconds) }

    func accept(_ chunks: [VerifiedChunk], verifiedEnd: Int) throws(StorageError) {
        for chunk in chunks { try engine.store(chunk.bytes, at: chunk.offset, in: object) }
        engine.verified(fill: fill, chunks: chunks.map(\.index), verifiedEnd: verifiedEnd, object: object)
    }

    /// The engine learns of completion from the verified chunks themselves.
    func completed() {}

    func failed(status: Int, local: StorageError?) {
        if local != nil {
            engine.storageFailed(fill: fill, object: object)
        } else {
            engine.failed(fill: fill, object: object, status: status)
        }
    }
}

/// A fill for one response that this node cannot store (its cache disk is full even after evicting): verified chunks
/// go straight to the response, nothing is written. Confined to the response's event loop.
final class UncachedFillTarget: FillTarget, @unchecked Sendable {
    private let deliver: (ByteBuffer, Int64) -> Bool
    private let end: (Int?) -> Void
    private let engineStopped: () -> Bool
    private var viewerGone = false
    private var ended = false

    /// - Parameters:
    ///   - deliver: writes verified bytes found at a file offset; false when the response no longer wants any.
    ///   - end: nil once everything was delivered, else the status for a response that could not be completed.
    init(deliver: @escaping (ByteBuffer, Int64) -> Bool, end: @escaping (Int?) -> Void, engineStopped: @escaping () -> Bool) {
        self.deliver = deliver
        self.end = end
        self.engineStopped = engineStopped
    }

    var isStopped: Bool { viewerGone || engineStopped() }

    func noteUpstreamAge(_ seconds: Int64) {}

    func accept(_ chunks: [VerifiedChunk], verifiedEnd: Int) throws(StorageError) {
        for chunk in chunks where !viewerGone {
            var buffer = ByteBufferAllocator().buffer(capacity: chunk.bytes.count)
            buffer.writeBytes(chunk.bytes)
            viewerGone = !deliver(buffer, chunk.offset)
        }
    }

    func completed() { finish(nil) }

    func failed(status: Int, local: StorageError?) { finish(status) }

    private func finish(_ status: Int?) {
        guard !ended else { return }
        ended = true
        end(status)
    }
}
