import CEdgeSys
import Foundation
import HTTPSemantics
import Manifest
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
import Gossip
#endif

/// What the signed manifests under the content root say of their files: a file's ETag is its chunk-tree root and its
/// Last-Modified the manifest's modification time (when the content was published; caching nodes keep the origin's),
/// so every node returns the same validators for the same bytes; and its chunk list, which the bytes on disk are
/// verified against before they are served. A content directory's manifest is re-read when it changes (checked at
/// most once a second). With a verifier configured, a manifest whose signature fails is not used.
final class ManifestETags: Sendable {
    /// One listed file.
    struct Listing {
        let etag: EntityTag
        let lastModified: Int64
        let chunks: ChunkList
        /// The media a segment carries (its EXTINF), for counting views; nil for other files.
        let mediaMilliseconds: UInt32?
    }

    private struct Entry {
        let inode: UInt64
        let modifiedNanoseconds: Int64
        let checkedAt: UInt64
        /// Each file's ETag (computed once per manifest load: a Merkle root over every chunk hash is too costly for
        /// every request) and chunk list.
        let files: [String: (etag: EntityTag, chunks: ChunkList)]
        /// Each media segment's duration.
        let media: [String: UInt32]
        let lastModified: Int64
    }

    private let rootDescriptor: Int32
    private let verifier: NoteVerifier?
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(rootDescriptor: Int32, verifier: NoteVerifier?) {
        self.rootDescriptor = rootDescriptor
        self.verifier = verifier
    }

    /// The validators and chunk list of `path` inside content `contentID`, or nil when no usable manifest lists it.
    func listing(contentID: String, path: String) -> Listing? {
        let now = DispatchTime.now().uptimeNanoseconds
        var entry = entries.withLockedValue { $0[contentID] }
        if entry == nil || now.elapsed(since: entry!.checkedAt) >= 1_000_000_000 {
            let loaded = load(contentID, now: now)
            entries.withLockedValue { $0[contentID] = loaded }
            entry = loaded
        }
        return entry!.files[path].map {
            Listing(etag: $0.etag, lastModified: entry!.lastModified, chunks: $0.chunks, mediaMilliseconds: entry!.media[path])
        }
    }

    private func load(_ contentID: String, now: UInt64) -> Entry {
        let descriptor = edgesys_open_beneath(rootDescriptor, "\(contentID)/manifest.json")
        guard descriptor >= 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, files: [:], media: [:], lastModified: 0) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, files: [:], media: [:], lastModified: 0) }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if let existing = entries.withLockedValue({ $0[contentID] }), existing.inode == UInt64(info.st_ino),
           existing.modifiedNanoseconds == modified {
            return Entry(inode: existing.inode, modifiedNanoseconds: modified, checkedAt: now, files: existing.files,
                         media: existing.media, lastModified: existing.lastModified)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        var lists: [String: ChunkList] = [:]
        var media: [String: UInt32] = [:]
        if let data = try? handle.read(upToCount: ContentManifest.maximumSize), let manifest = try? ContentManifest.parse(data) {
            for rendition in manifest.renditions {
                for segment in rendition.segments { media[segment.path] = UInt32(clamping: max(0, segment.durationUs) / 1000) }
            }
            if let verifier {
                if let verified = try? VerifiedManifest(manifest, verifier: verifier) {
                    for entry in verified.files { lists[entry.path] = entry.chunks }
                }
            } else {
                // No key to check the signature with (a standalone origin): the manifest is still the reference the
                // bytes on disk are checked against.
                for file in manifest.files {
                    if let list = try? file.chunkList(chunkSize: manifest.chunkSize), list.root.hex == file.chunkRoot { lists[file.path] = list }
                }
            }
        }
        let files = lists.mapValues { (etag: EntityTag(opaque: String($0.root.hex.prefix(32))), chunks: $0) }
        return Entry(inode: UInt64(info.st_ino), modifiedNanoseconds: modified, checkedAt: now, files: files,
                     media: media.filter { files[$0.key] != nil }, lastModified: Int64(info.st_mtim.tv_sec))
    }
}
