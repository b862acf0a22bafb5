import CEdgeSys
import Foundation
import HTTPSemantics
import Manifest
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A file ready to be served: its representation metadata and either its bytes (small files, from memory) or an
/// open descriptor for sendfile.
struct OpenedFile {
    let representation: Representation
    /// Whole content of a small file.
    let bytes: ByteBuffer?
    /// Open descriptor of a large file; the response closes it.
    let handle: NIOFileHandle?
}

/// Resolves request paths to files under the content root. Containment is enforced by the kernel
/// (`openat2(RESOLVE_BENEATH)`): a path or symlink leading outside the root fails to open, so nothing outside it is
/// ever read. Small files (≤ 64 KiB: playlists, init segments) are kept in memory, validated by inode, size and
/// modification time on every request.
final class ContentStore: Sendable {
    /// Files up to this size are served from memory.
    static let smallFileLimit = 64 * 1024
    /// Upper bound on memory used by cached small files.
    static let cacheBudget = 64 * 1024 * 1024

    private struct CachedFile {
        let inode: UInt64
        let size: Int
        let modifiedNanoseconds: Int64
        let bytes: ByteBuffer
        let representation: Representation
    }

    let root: String
    private let rootDescriptor: Int32
    private let etags: ManifestETags
    private let cache = NIOLockedValueBox<(files: [String: CachedFile], bytes: Int)>(([:], 0))

    /// Opens the root directory; throws when it is missing or not a directory.
    init(root: String, verifier: NoteVerifier?) throws(StorageError) {
        let descriptor = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(root, "cannot open content directory: \(String(cString: strerror(errno)))") }
        self.root = root
        rootDescriptor = descriptor
        etags = ManifestETags(rootDescriptor: descriptor, verifier: verifier)
    }

    deinit { close(rootDescriptor) }

    /// Opens the file at `components` (already checked by `RequestPath`), or nil when it is not a regular file
    /// inside the root.
    func open(_ components: [Substring]) -> OpenedFile? {
        guard !components.isEmpty else { return nil }
        let relative = components.joined(separator: "/")
        let descriptor = edgesys_open_beneath(rootDescriptor, relative)
        guard descriptor >= 0 else { return nil }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return nil
        }
        let size = Int(info.st_size)
        let modifiedNanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if size <= Self.smallFileLimit {
            defer { close(descriptor) }
            if let cached = cache.withLockedValue({ $0.files[relative] }), cached.inode == UInt64(info.st_ino),
               cached.size == size, cached.modifiedNanoseconds == modifiedNanoseconds {
                return OpenedFile(representation: cached.representation, bytes: cached.bytes, handle: nil)
            }
            guard let bytes = Self.readAll(descriptor, size: size) else { return nil }
            let isVOD = components.last!.hasSuffix(".m3u8") && bytes.readableBytesView.firstRange(of: Array("#EXT-X-PLAYLIST-TYPE:VOD".utf8)) != nil
            let representation = makeRepresentation(components, relative: relative, size: size, info: info, isVOD: isVOD)
            remember(CachedFile(inode: UInt64(info.st_ino), size: size, modifiedNanoseconds: modifiedNanoseconds,
                                bytes: bytes, representation: representation), at: relative)
            return OpenedFile(representation: representation, bytes: bytes, handle: nil)
        }
        let representation = makeRepresentation(components, relative: relative, size: size, info: info, isVOD: false)
        return OpenedFile(representation: representation, bytes: nil, handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor))
    }

    private func makeRepresentation(_ components: [Substring], relative: String, size: Int, info: stat, isVOD: Bool) -> Representation {
        let name = components.last!
        let etag = components.count > 1 ? etags.etag(contentID: String(components[0]), path: components.dropFirst().joined(separator: "/")) : nil
        // A playlist listed in a signed manifest is published VOD content, as is one that says so itself.
        return Representation(
            length: UInt64(size), lastModified: Int64(info.st_mtim.tv_sec),
            etag: etag ?? EntityTag(opaque: String(info.st_mtim.tv_sec, radix: 16) + "-" + String(size, radix: 16)),
            contentType: MediaType.forFile(name),
            cacheControl: MediaType.cacheControl(forFile: name, isVODPlaylist: isVOD || etag != nil))
    }

    private func remember(_ file: CachedFile, at key: String) {
        cache.withLockedValue { state in
            if let old = state.files[key] { state.bytes -= old.size }
            while state.bytes + file.size > Self.cacheBudget, let victim = state.files.keys.randomElement() {
                state.bytes -= state.files.removeValue(forKey: victim)!.size
            }
            state.files[key] = file
            state.bytes += file.size
        }
    }

    private static func readAll(_ descriptor: Int32, size: Int) -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { pointer in
            var offset = 0
            while offset < size {
                let n = pread(descriptor, pointer.baseAddress! + offset, size - offset, off_t(offset))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
            return offset
        }
        return read == size ? buffer : nil
    }
}
