import CEdgeSys
import Foundation
import HTTPSemantics
import Manifest
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Strong ETags from the signed manifests under the content root: a file's ETag is its chunk-tree root, so every
/// node returns the same ETag for the same bytes. A content directory's manifest is re-read when it changes (checked
/// at most once a second). With a verifier configured, a manifest whose signature fails is not used.
final class ManifestETags: Sendable {
    private struct Entry {
        let inode: UInt64
        let modifiedNanoseconds: Int64
        let checkedAt: UInt64
        let etags: [String: String]
    }

    private let rootDescriptor: Int32
    private let verifier: NoteVerifier?
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    init(rootDescriptor: Int32, verifier: NoteVerifier?) {
        self.rootDescriptor = rootDescriptor
        self.verifier = verifier
    }

    /// The ETag of `path` inside content `contentID`, or nil when no usable manifest lists it.
    func etag(contentID: String, path: String) -> EntityTag? {
        let now = DispatchTime.now().uptimeNanoseconds
        if let entry = entries.withLockedValue({ $0[contentID] }), now &- entry.checkedAt < 1_000_000_000 {
            return entry.etags[path].map { EntityTag(opaque: $0) }
        }
        let entry = load(contentID, now: now)
        entries.withLockedValue { $0[contentID] = entry }
        return entry.etags[path].map { EntityTag(opaque: $0) }
    }

    private func load(_ contentID: String, now: UInt64) -> Entry {
        let descriptor = edgesys_open_beneath(rootDescriptor, "\(contentID)/manifest.json")
        guard descriptor >= 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, etags: [:]) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return Entry(inode: 0, modifiedNanoseconds: 0, checkedAt: now, etags: [:]) }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if let existing = entries.withLockedValue({ $0[contentID] }), existing.inode == UInt64(info.st_ino),
           existing.modifiedNanoseconds == modified {
            return Entry(inode: existing.inode, modifiedNanoseconds: modified, checkedAt: now, etags: existing.etags)
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        var etags: [String: String] = [:]
        if let data = try? handle.read(upToCount: ContentManifest.maximumSize), let manifest = try? ContentManifest.parse(data),
           verifier.map({ (try? VerifiedManifest(manifest, verifier: $0)) != nil }) ?? true {
            for file in manifest.files { etags[file.path] = String(file.chunkRoot.prefix(32)) }
        }
        return Entry(inode: UInt64(info.st_ino), modifiedNanoseconds: modified, checkedAt: now, etags: etags)
    }
}
