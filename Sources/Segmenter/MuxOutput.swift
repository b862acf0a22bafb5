import Manifest

/// The sink libav's muxer writes into: bytes go, chunk by chunk, to whichever output file is current (and, for
/// fMP4, the `ftyp`/`moov` boxes to the init segment), through the hashing pipeline.
final class MuxOutput {
    private final class OutputFile {
        let id: Int
        let relativePath: String
        var buffer: [UInt8]
        var filled = 0
        init(id: Int, relativePath: String, buffer: [UInt8]) {
            self.id = id
            self.relativePath = relativePath
            self.buffer = buffer
        }
    }

    private let pipeline: ChunkPipeline
    private let directory: String
    private var nextID = 0
    private var current: OutputFile?
    private var initFile: OutputFile?
    private var router: BoxRouter?
    /// The first failure seen while writing; libav only sees an error code.
    private(set) var failure: SegmenterError?

    init(pipeline: ChunkPipeline, directory: String) {
        self.pipeline = pipeline
        self.directory = directory
    }

    /// Routes the initialization boxes of a fragmented MP4 stream into `relativePath`.
    func captureInitSegment(relativePath: String) throws(SegmenterError) {
        initFile = try makeFile(relativePath)
        router = BoxRouter()
    }

    /// Makes `relativePath` the file that receives media bytes from now on.
    func beginSegment(relativePath: String) throws(SegmenterError) {
        precondition(current == nil, "previous segment still open")
        current = try makeFile(relativePath)
    }

    /// Closes the current media file.
    func endSegment() throws(SegmenterError) {
        guard let file = current else { return }
        current = nil
        try close(file)
    }

    /// Closes the init segment if it is still open (a stream with no media boxes).
    func finish() throws(SegmenterError) {
        if let file = initFile {
            initFile = nil
            try close(file)
        }
        if let failure { throw failure }
    }

    /// AVIO write callback body: returns `count`, or -1 after recording the failure.
    func write(_ pointer: UnsafeRawPointer, count: Int) -> Int32 {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: count)
        do throws(SegmenterError) {
            if var router, !router.passthrough {
                let runs = router.route(bytes)
                self.router = router
                for run in runs {
                    let target = run.destination == .initialization ? initFile : current
                    let runBytes = run.bytes
                    try runBytes.withUnsafeBufferPointer { buffer throws(SegmenterError) in
                        try append(UnsafeRawBufferPointer(buffer), to: target)
                    }
                }
                if router.passthrough, let file = initFile {
                    initFile = nil
                    try close(file)
                }
            } else {
                try append(bytes, to: current)
            }
            return Int32(count)
        } catch {
            if failure == nil { failure = error }
            return -1
        }
    }

    private func makeFile(_ relativePath: String) throws(SegmenterError) -> OutputFile {
        let file = OutputFile(id: nextID, relativePath: relativePath, buffer: pipeline.makeBuffer())
        nextID += 1
        try pipeline.open(id: file.id, path: directory + "/" + relativePath, relativePath: relativePath)
        return file
    }

    private func append(_ bytes: UnsafeRawBufferPointer, to target: OutputFile?) throws(SegmenterError) {
        guard let file = target else {
            throw .muxFailed(operation: "write", reason: "\(bytes.count) bytes arrived outside any segment")
        }
        var offset = 0
        let chunkSize = pipeline.chunkSize
        while offset < bytes.count {
            let take = min(chunkSize - file.filled, bytes.count - offset)
            file.buffer.withUnsafeMutableBytes { destination in
                destination.baseAddress!.advanced(by: file.filled)
                    .copyMemory(from: bytes.baseAddress!.advanced(by: offset), byteCount: take)
            }
            file.filled += take
            offset += take
            if file.filled == chunkSize {
                try pipeline.write(id: file.id, buffer: file.buffer, count: chunkSize)
                file.buffer = pipeline.makeBuffer()
                file.filled = 0
            }
        }
    }

    private func close(_ file: OutputFile) throws(SegmenterError) {
        if file.filled > 0 {
            try pipeline.write(id: file.id, buffer: file.buffer, count: file.filled)
            file.filled = 0
        }
        try pipeline.close(id: file.id)
    }
}
