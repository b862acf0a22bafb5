import Manifest

/// One content's verified manifest as a caching node holds it, with what serving needs from it.
struct EdgeContent: Sendable {
    let verified: VerifiedManifest
    /// Last-Modified of every file of the content: the origin's manifest.json modification time (seconds).
    let lastModified: Int64
    /// The parent's ETag for manifest.json, for conditional revalidation.
    let manifestETag: String?
    /// Segment path → (rendition, position in its playlist), for prefetching what follows.
    private let positions: [String: (rendition: Int, index: Int)]

    init(verified: VerifiedManifest, lastModified: Int64, manifestETag: String?) {
        self.verified = verified
        self.lastModified = lastModified
        self.manifestETag = manifestETag
        var positions: [String: (Int, Int)] = [:]
        for (rendition, entry) in verified.manifest.renditions.enumerated() {
            for (index, segment) in entry.segments.enumerated() { positions[segment.path] = (rendition, index) }
        }
        self.positions = positions
    }

    /// Up to `count` segments following `path` in its rendition's playlist.
    func segments(after path: String, count: Int) -> [String] {
        guard count > 0, let position = positions[path] else { return [] }
        let segments = verified.manifest.renditions[position.rendition].segments
        return segments[(position.index + 1)..<min(segments.count, position.index + 1 + count)].map(\.path)
    }
}
