import Manifest

/// An object being filled: its sparse partial file, which chunks are verified in it, and a descriptor for readers.
/// Mutable state is guarded by the fill engine's lock (hence `@unchecked Sendable`).
final class ObjectFill: @unchecked Sendable {
    let path: String
    let entry: VerifiedManifest.Entry
    let partial: PartialObject
    let reader: SharedFile
    private(set) var present: [Bool]
    private(set) var presentCount = 0
    var committing = false

    init(path: String, entry: VerifiedManifest.Entry, partial: PartialObject, reader: SharedFile) {
        self.path = path
        self.entry = entry
        self.partial = partial
        self.reader = reader
        present = Array(repeating: false, count: entry.chunks.hashes.count)
    }

    var chunkCount: Int { present.count }
    var isComplete: Bool { presentCount == present.count }

    func markPresent(_ index: Int) {
        guard !present[index] else { return }
        present[index] = true
        presentCount += 1
    }

    /// The first chunk in `range` not yet verified, if any.
    func firstMissing(in range: Range<Int>) -> Int? { range.first { !present[$0] } }

    /// The first run of missing chunks, if any.
    func firstMissingRun() -> Range<Int>? {
        guard let start = present.firstIndex(of: false) else { return nil }
        let end = present[start...].firstIndex(of: true) ?? present.count
        return start..<end
    }

    /// Byte offset where chunk `index` ends (the file's end for the last chunk).
    func endOffset(ofChunk index: Int) -> Int64 {
        index <= 0 ? 0 : entry.chunks.range(ofChunk: index - 1).upperBound
    }
}
