import CEdgeSys
import Foundation
import HTTPSemantics
import Manifest
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
import Gossip
#endif

/// What a request path resolves to.
enum Lookup {
    case file(OpenedFile)
    case notFound
    /// A file a signed manifest lists whose bytes on disk are not the manifest's (already reported).
    case tampered
}

/// Which version of a file is on disk: a write changes the ctime (which no user can set back), a replacement the
/// inode, a truncation or extension the size.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let changedNanoseconds: Int64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        changedNanoseconds = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }
}

/// A file ready to be served: its representation, the header fields every 200/206 of it carries, and either its bytes
/// (small files, from memory) or an open descriptor for sendfile.
struct OpenedFile {
    let representation: Representation
    let commonFields: ByteBuffer
    /// Whole content of a small file.
    let bytes: ByteBuffer?
    /// Open descriptor of a large file, shared with other responses; a response keeps it alive until it is sent.
    let shared: SharedFile?
    /// What `Age` counts from (seconds): on a caching node, when the object entered the cache (its ctime, which
    /// cannot be set back, unlike an mtime) less the age it already had at the parent (RFC 9111 §5.1).
    let storedAt: Int64
    /// The media segment it is, for counting views (nil: not a segment a verified manifest lists).
    var media: MediaSegment? = nil
}

/// A media segment of a content, as views count it: which content, which segment (an id of its path), how much media.
struct MediaSegment: Sendable {
    let content: String
    let segment: UInt64
    let milliseconds: UInt32

    /// The media time `bytes` of the segment's `size` bytes carry: its duration in proportion, rounded down (a whole
    /// segment its whole duration; nothing for an empty or impossible count).
    func milliseconds(delivering bytes: UInt64, of size: UInt64) -> UInt32 {
        guard size > 0, bytes > 0 else { return 0 }
        guard bytes < size else { return milliseconds }
        let product = UInt64(milliseconds).multipliedFullWidth(by: bytes)
        return UInt32(size.dividingFullWidth(product).quotient)
    }

    /// FNV-1a of the segment's path within its content.
    static func id(_ path: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

/// An open file shared by the cache and every response sending from it (sendfile takes an explicit offset, so
/// sharing is safe); closed when the last of them lets go. NIO lets one `NIOFileHandle` be used by one thread at a
/// time (a second concurrent user gets EBUSY and its connection dies), so each event loop gets its own duplicate of
/// the descriptor.
final class SharedFile: Sendable {
    private let descriptor: Int32
    private let handles = NIOLockedValueBox<[ObjectIdentifier: NIOFileHandle]>([:])

    init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        for handle in handles.withLockedValue({ $0.values }) { try? handle.close() }
        if descriptor >= 0 { close(descriptor) }
    }

    /// The handle to use on `eventLoop`, or nil when the descriptor cannot be duplicated.
    func handle(on eventLoop: EventLoop) -> NIOFileHandle? {
        handles.withLockedValue { handles in
            let key = ObjectIdentifier(eventLoop)
            if let handle = handles[key] { return handle }
            let duplicate = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
            guard duplicate >= 0 else { return nil }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: duplicate)
            handles[key] = handle
            return handle
        }
    }
}

/// Resolves request paths to files under the content root.
///
/// - Containment is enforced by the kernel (`openat2(RESOLVE_BENEATH)`): a path or symlink leading outside the root
///   fails to open, so nothing outside it is ever read.
/// - Small files (≤ 64 KiB: playlists, init segments) are kept in memory. Like nginx's `open_file_cache valid=1s`,
///   one validated within the last second is served without touching the file system; older entries are
///   re-validated by inode, size and modification time.
/// - Large files keep an open descriptor in the cache (like `open_file_cache`), trusted for the same second and then
///   re-validated; at most `maximumOpenFiles` are held.
/// - The disk is not trusted: a file a signed manifest lists is verified in full against its chunk list the first
///   time it is opened and again whenever its identity (inode, size, ctime) changes; bytes that do not match are
///   never served (`Lookup.tampered`). Re-validation happens at most a second after a change, like the rest.
final class ContentStore: Sendable {
    /// Files up to this size are served from memory.
    static let smallFileLimit = 64 * 1024
    /// Upper bound on memory used by cached small files.
    static let cacheBudget = 64 * 1024 * 1024
    /// How long a validated entry is trusted without a system call.
    static let validityNanoseconds: UInt64 = 1_000_000_000
    /// Descriptors of large files held open by the cache, at most.
    static let maximumOpenFiles = 1024

    private struct Entry {
        let identity: FileIdentity
        /// The file's ctime (seconds).
        let storedAt: Int64
        let checkedAt: UInt64
        let bytes: ByteBuffer?
        let shared: SharedFile?
        let representation: Representation
        let commonFields: ByteBuffer
        let media: MediaSegment?
    }

    /// Verified identities remembered at most (beyond, they are forgotten and files verified again when next opened).
    static let maximumVerifiedIdentities = 262_144

    private let rootDescriptor: Int32
    private let etags: ManifestETags
    /// Serve only files a usable manifest lists (caching nodes).
    private let requireListing: Bool
    /// Called with the path and the reason when a listed file's bytes do not match its manifest.
    private let onTampered: @Sendable (String, String) -> Void
    /// The identity each listed file had when its bytes were last verified, by path: until the identity changes, the
    /// bytes are the verified ones (a change to the bytes changes the inode's ctime, which no user can set back).
    private let verified = NIOLockedValueBox<[String: FileIdentity]>([:])
    private let allocator = ByteBufferAllocator()
    /// Keyed by the request path as received (query removed).
    private let cache = NIOLockedValueBox<(entries: [String: Entry], bytes: Int, openFiles: Int)>(([:], 0, 0))

    /// Opens the root directory; throws when it is missing or not a directory. `requireListing`: serve only files a
    /// usable manifest lists (a caching node's disk holds nothing else worth serving).
    init(root: String, verifier: NoteVerifier?, requireListing: Bool = false,
         onTampered: @escaping @Sendable (String, String) -> Void = { _, _ in }) throws(StorageError) {
        let descriptor = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(root, "cannot open content directory: \(String(cString: strerror(errno)))") }
        rootDescriptor = descriptor
        self.requireListing = requireListing
        self.onTampered = onTampered
        etags = ManifestETags(rootDescriptor: descriptor, verifier: verifier)
    }

    deinit { close(rootDescriptor) }

    /// The file a request path names, after checking that bytes a signed manifest lists are the manifest's.
    func lookup(path rawPath: Substring) -> Lookup {
        let end = rawPath.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rawPath.endIndex
        let key = String(rawPath[..<end])
        let now = DispatchTime.now().uptimeNanoseconds
        let cached = cache.withLockedValue { $0.entries[key] }
        if let cached, now.elapsed(since: cached.checkedAt) < Self.validityNanoseconds {
            return .file(OpenedFile(representation: cached.representation, commonFields: cached.commonFields, bytes: cached.bytes,
                                    shared: cached.shared, storedAt: cached.storedAt, media: cached.media))
        }
        guard let components = RequestPath.components(of: rawPath), !components.isEmpty else { return .notFound }
        let relative = components.joined(separator: "/")
        let descriptor = edgesys_open_beneath(rootDescriptor, relative)
        guard descriptor >= 0 else { return .notFound }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return .notFound
        }
        let size = Int(info.st_size)
        let identity = FileIdentity(info)
        // Age = time in this cache + the age the bytes had on arrival (kept with the file by the cache).
        let storedAt = Int64(info.st_ctim.tv_sec) - (requireListing ? Self.upstreamAge(descriptor) : 0)
        let listing = components.count > 1 && !DiskCache.isMetadata(relative)
            ? etags.listing(contentID: String(components[0]), path: components.dropFirst().joined(separator: "/")) : nil
        if listing == nil && requireListing && !DiskCache.isMetadata(relative) {
            // A caching node serves only what a verified manifest lists: a planted file is not content.
            close(descriptor)
            return .notFound
        }
        let unchanged = cached.map { $0.identity == identity } ?? false
        let media = listing?.mediaMilliseconds.map { milliseconds in
            MediaSegment(content: String(components[0]), segment: MediaSegment.id(components.dropFirst().joined(separator: "/")), milliseconds: milliseconds)
        }
        var verifiedBytes: ByteBuffer?
        if let listing, !unchanged, verified.withLockedValue({ $0[relative] }) != identity {
            switch verify(descriptor, size: size, against: listing.chunks) {
            case .success(let bytes):
                verifiedBytes = bytes
                verified.withLockedValue { identities in
                    if identities.count >= Self.maximumVerifiedIdentities { identities.removeAll() }
                    identities[relative] = identity
                }
            case .failure(let problem):
                close(descriptor)
                verified.withLockedValue { $0[relative] = nil }
                cache.withLockedValue { _ = $0.entries.removeValue(forKey: key) }
                onTampered(relative, problem.description)
                return .tampered
            }
        }
        if size <= Self.smallFileLimit {
            defer { close(descriptor) }
            let bytes: ByteBuffer
            let representation: Representation
            let commonFields: ByteBuffer
            if unchanged, let cached, let cachedBytes = cached.bytes {
                (bytes, representation, commonFields) = (cachedBytes, cached.representation, cached.commonFields)
            } else {
                guard let read = verifiedBytes ?? Self.readAll(descriptor, size: size) else { return .notFound }
                bytes = read
                let isVOD = components.last!.hasSuffix(".m3u8")
                    && read.readableBytesView.firstRange(of: Array("#EXT-X-PLAYLIST-TYPE:VOD".utf8)) != nil
                representation = makeRepresentation(components, listing: listing, size: size, info: info, isVOD: isVOD)
                commonFields = ResponseHead.commonFields(representation, allocator: allocator)
            }
            remember(Entry(identity: identity, storedAt: storedAt, checkedAt: now, bytes: bytes,
                           shared: nil, representation: representation, commonFields: commonFields, media: media), at: key)
            return .file(OpenedFile(representation: representation, commonFields: commonFields, bytes: bytes, shared: nil,
                                    storedAt: storedAt, media: media))
        }
        let shared: SharedFile
        let representation: Representation
        let commonFields: ByteBuffer
        if unchanged, let cached, let cachedFile = cached.shared {
            close(descriptor)
            (shared, representation, commonFields) = (cachedFile, cached.representation, cached.commonFields)
        } else {
            shared = SharedFile(descriptor: descriptor)
            representation = makeRepresentation(components, listing: listing, size: size, info: info, isVOD: false)
            commonFields = ResponseHead.commonFields(representation, allocator: allocator)
        }
        remember(Entry(identity: identity, storedAt: storedAt, checkedAt: now, bytes: nil,
                       shared: shared, representation: representation, commonFields: commonFields, media: media), at: key)
        return .file(OpenedFile(representation: representation, commonFields: commonFields, bytes: nil, shared: shared,
                                storedAt: storedAt, media: media))
    }

    /// The age (seconds) a cached file had when it arrived from its parent, 0 when unknown.
    private static func upstreamAge(_ descriptor: Int32) -> Int64 {
        var buffer = [UInt8](repeating: 0, count: 24)
        let length = Int(edgesys_get_attribute(descriptor, PartialObject.upstreamAgeAttribute, &buffer, UInt(buffer.count)))
        guard length > 0 else { return 0 }
        return Int64(String(decoding: buffer[..<length], as: UTF8.self)).map { min(max(0, $0), 1 << 40) } ?? 0
    }

    /// Why bytes on disk are not the manifest's.
    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    /// Hashes the whole file chunk by chunk and compares it with the manifest's chunk list; returns the bytes when the
    /// file is small enough to be served from memory (so the bytes verified are exactly the bytes sent).
    private func verify(_ descriptor: Int32, size: Int, against chunks: ChunkList) -> Result<ByteBuffer?, Mismatch> {
        guard Int64(size) == chunks.size else {
            return .failure(Mismatch(description: "\(size) bytes on disk, the manifest lists \(chunks.size)"))
        }
        var hasher = ChunkHasher(chunkSize: chunks.chunkSize)
        var kept: ByteBuffer?
        if size <= Self.smallFileLimit {
            guard let bytes = Self.readAll(descriptor, size: size) else { return .failure(Mismatch(description: "cannot be read")) }
            bytes.withUnsafeReadableBytes { hasher.update($0) }
            kept = bytes
        } else {
            let block = 1 << 20
            var buffer = [UInt8](repeating: 0, count: block)
            var offset = 0
            while offset < size {
                let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, min(block, size - offset), off_t(offset)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return .failure(Mismatch(description: "cannot be read at byte \(offset)")) }
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                offset += n
            }
        }
        let actual = hasher.finish()
        guard actual.size == chunks.size else { return .failure(Mismatch(description: "\(actual.size) bytes read, the manifest lists \(chunks.size)")) }
        let differingChunks = actual.hashes.indices.filter { actual.hashes[$0] != chunks.hashes[$0] }
        if let index = differingChunks.first {
            let differing = differingChunks.count
            return .failure(Mismatch(description: "\(differing) of \(chunks.hashes.count) chunks differ (first: chunk \(index))"))
        }
        return .success(kept)
    }

    private func makeRepresentation(_ components: [Substring], listing listed: ManifestETags.Listing?, size: Int, info: stat,
                                    isVOD: Bool) -> Representation {
        let name = components.last!
        // A playlist listed in a signed manifest is published VOD content, as is one that says so itself.
        return Representation(
            length: UInt64(size), lastModified: listed?.lastModified ?? Int64(info.st_mtim.tv_sec),
            etag: listed?.etag ?? EntityTag(opaque: String(info.st_mtim.tv_sec, radix: 16) + "-" + String(size, radix: 16)),
            contentType: MediaType.forFile(name),
            cacheControl: MediaType.cacheControl(forFile: name, isVODPlaylist: isVOD || listed != nil))
    }

    private func remember(_ entry: Entry, at key: String) {
        func weight(_ entry: Entry, _ key: String) -> Int {
            (entry.bytes?.readableBytes ?? 0) + entry.commonFields.readableBytes + key.utf8.count
        }
        cache.withLockedValue { state in
            if let old = state.entries.removeValue(forKey: key) {
                state.bytes -= weight(old, key)
                state.openFiles -= old.shared == nil ? 0 : 1
            }
            let opens = entry.shared == nil ? 0 : 1
            // Random eviction: cheap, and no access pattern can pin an entry.
            while state.bytes + weight(entry, key) > Self.cacheBudget || state.openFiles + opens > Self.maximumOpenFiles,
                  let victim = state.entries.keys.randomElement() {
                let removed = state.entries.removeValue(forKey: victim)!
                state.bytes -= weight(removed, victim)
                state.openFiles -= removed.shared == nil ? 0 : 1
            }
            state.entries[key] = entry
            state.bytes += weight(entry, key)
            state.openFiles += opens
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
