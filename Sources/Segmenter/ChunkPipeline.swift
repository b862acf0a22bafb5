import Foundation
import Manifest

#if canImport(Glibc)
import Glibc
#endif

/// Hashes and writes output files on a background thread, so that SHA-256 overlaps with demuxing and muxing on
/// the other core. The queue is bounded (`capacity` chunks), which bounds memory whatever the input length.
final class ChunkPipeline: @unchecked Sendable {
    private enum Job {
        case open(id: Int, path: String, relativePath: String)
        case write(id: Int, buffer: [UInt8], count: Int)
        case close(id: Int)
    }

    private struct WorkerFile {
        let fd: Int32
        let relativePath: String
        var hasher: ChunkHasher
    }

    let chunkSize: Int
    private let capacity: Int
    private let durable: Bool
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [Job] = []
    private var queueHead = 0
    private var failure: SegmenterError?
    private var stopping = false
    private var stopped = false
    private var results: [String: ChunkList] = [:]
    private var spareBuffers: [[UInt8]] = []
    // Owned by the worker thread.
    private var files: [Int: WorkerFile] = [:]

    /// Starts the worker. `durable` fsyncs every file before it counts as written.
    init(chunkSize: Int, capacity: Int = 8, durable: Bool) {
        self.chunkSize = chunkSize
        self.capacity = capacity
        self.durable = durable
        let thread = Thread { [self] in run() }
        thread.name = "edgenode-hash"
        thread.start()
    }

    /// An empty buffer with room for one chunk, recycled when possible.
    func makeBuffer() -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        if let buffer = spareBuffers.popLast() { return buffer }
        return [UInt8](repeating: 0, count: chunkSize)
    }

    /// Creates `path` (which must not exist) as file `id`.
    func open(id: Int, path: String, relativePath: String) throws(SegmenterError) {
        try submit(.open(id: id, path: path, relativePath: relativePath))
    }

    /// Appends the first `count` bytes of `buffer` (one whole chunk, or the file's last partial chunk).
    func write(id: Int, buffer: [UInt8], count: Int) throws(SegmenterError) {
        try submit(.write(id: id, buffer: buffer, count: count))
    }

    /// Finishes file `id`; its chunk list becomes available from `finish()`.
    func close(id: Int) throws(SegmenterError) {
        try submit(.close(id: id))
    }

    private func submit(_ job: Job) throws(SegmenterError) {
        condition.lock()
        defer { condition.unlock() }
        while queue.count - queueHead >= capacity && failure == nil { condition.wait() }
        if let failure { throw failure }
        queue.append(job)
        condition.broadcast()
    }

    /// Waits for every queued job and stops the worker. Returns chunk lists by relative path.
    func finish() throws(SegmenterError) -> [String: ChunkList] {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        if let failure { throw failure }
        return results
    }

    private func run() {
        while true {
            condition.lock()
            while queue.count == queueHead && !stopping { condition.wait() }
            if queue.count == queueHead {
                for file in files.values { Glibc.close(file.fd) }
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead > 64 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            let failed = failure != nil
            condition.broadcast()
            condition.unlock()
            if failed {
                recycle(job)
                continue
            }
            do {
                try execute(job)
            } catch {
                condition.lock()
                if failure == nil { failure = error }
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    private func recycle(_ job: Job) {
        guard case .write(_, let buffer, _) = job else { return }
        condition.lock()
        spareBuffers.append(buffer)
        condition.unlock()
    }

    private func execute(_ job: Job) throws(SegmenterError) {
        switch job {
        case .open(let id, let path, let relativePath):
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .writeFailed(path: relativePath, reason: String(cString: strerror(errno))) }
            files[id] = WorkerFile(fd: fd, relativePath: relativePath, hasher: ChunkHasher(chunkSize: chunkSize))
        case .write(let id, let buffer, let count):
            defer { recycle(job) }
            guard var file = files[id] else { return }
            let writeError: Int32? = buffer.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                file.hasher.update(bytes)
                return writeAll(file.fd, bytes)
            }
            if let writeError { throw .writeFailed(path: file.relativePath, reason: String(cString: strerror(writeError))) }
            files[id] = file
        case .close(let id):
            guard var file = files.removeValue(forKey: id) else { return }
            defer { Glibc.close(file.fd) }
            if durable && fsync(file.fd) != 0 {
                throw .writeFailed(path: file.relativePath, reason: String(cString: strerror(errno)))
            }
            let list = file.hasher.finish()
            condition.lock()
            results[file.relativePath] = list
            condition.unlock()
        }
    }
}
