import CEdgeSys
import Foundation
import HTTPSemantics
import Manifest
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Validators from the signed manifests under the content root: a file's ETag is its chunk-tree root and its
/// Last-Modified the manifest's modification time (when the content was published; caching nodes keep the origin's),
/// so every node returns the same validators for the same bytes. A content directory's manifest is re-read when it changes (checked
/// at most once a second). With a verifier configured, a manifest whose signature fails is not used.
final class ManifestETags: Sendable {
    private struct Entry {
        let inode: UInt64
        let modifiedNanoseconds: Int64
        let checkedAt: UInt64
        let etags: [String: String]
        let lastModified: Int64
    }

    private let rootDescriptor: Int32
    private let verifier: NoteVerifier?
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(rootDescriptor: Int32, verifier: NoteVerifier?) {
        self.rootDescriptor = rootDescriptor
        self.verifier = verifier
    }

    /// The ETag and Last-Modified (seconds) of `path` inside content `contentID`, or nil when no usable manifest
    /// lists it.
    func validators(contentID: String, path: String) -> (etag: EntityTag, lastModified: Int64)? {
        let now = DispatchTime.now().uptimeNanoseconds
        var entry = entries.withLockedValue { $0[contentID] }
        if entry == nil || now &- entry!.checkedAt >= 1_000_000_000 {
            let loaded = load(contentID, now: now)
            entries.withLockedValue { $0[contentID] = loaded }
            entry = loaded
        }
        return entry!.etags[path].map { (EntityTag(opaque: $0), entry!.lastModified) }
    }

    private func load(_ contentID: String, now: UInt64) -> Entry {
        let descriptor = edgesys_open_beneath(rootDescriptor, "\(contentID)/manifest.json")
        guard descriptor >= 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, etags: [:], lastModified: 0) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, etags: [:], lastModified: 0) }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if let existing = entries.withLockedValue({ $0[contentID] }), existing.inode == UInt64(info.st_ino),
           existing.modifiedNanoseconds == modified {
            return Entry(inode: existing.inode, modifiedNanoseconds: modified, checkedAt: now, etags: existing.etags,
                         lastModified: existing.lastModified)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        var etags: [String: String] = [:]
        if let data = try? handle.read(upToCount: ContentManifest.maximumSize), let manifest = try? ContentManifest.parse(data),
           verifier.map({ (try? VerifiedManifest(manifest, verifier: $0)) != nil }) ?? true {
            for file in manifest.files { etags[file.path] = String(file.chunkRoot.prefix(32)) }
        }
        return Entry(inode: UInt64(info.st_ino), modifiedNanoseconds: modified, checkedAt: now, etags: etags,
                     lastModified: Int64(info.st_mtim.tv_sec))
    }
}
