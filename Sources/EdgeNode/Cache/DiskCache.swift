import CEdgeSys
import EdgeCache
import Foundation
import Manifest
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The on-disk object store of an edge, mesh or satellite node, laid out like the origin's content directory so
/// the data plane serves it unchanged.
///
/// - An object becomes visible only complete: it is written under `.partial/` (which the data plane never serves:
///   hidden components are refused), fsynced, then renamed into place.
/// - On start, `.partial/` is emptied — a crash mid-fill leaves nothing that looks complete — and the index is
///   rebuilt from the files present, oldest first.
/// - A byte budget is held with S3-FIFO (chosen by `bench/eviction.sh`); evicted files are deleted.
public final class DiskCache: Sendable {
    /// Where partial objects are written.
    public static let partialDirectory = ".partial"

    public let root: String
    private let state: NIOLockedValueBox<S3FIFOPolicy<String>>

    /// Opens (creating if needed) the cache at `root`, discarding partial objects and indexing the rest.
    public init(root: String, capacityBytes: Int64) throws(StorageError) {
        self.root = root
        let partial = root + "/" + Self.partialDirectory
        do {
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        } catch {
            throw .io(root, "cannot prepare cache directory: \(error.localizedDescription)")
        }
        var policy = S3FIFOPolicy<String>(capacityBytes: capacityBytes)
        var deletions: [String] = []
        for (path, size) in Self.scan(root) {
            deletions += policy.request(path, size: size).evicted
            if !policy.contains(path) { deletions.append(path) }
        }
        state = NIOLockedValueBox(policy)
        for path in deletions { unlink(root + "/" + path) }
    }

    /// The byte budget.
    public var capacityBytes: Int64 { state.withLockedValue { $0.capacityBytes } }

    /// Changes the byte budget (a configuration reload): a smaller one deletes objects, least valuable first, down to
    /// it. Returns the paths deleted.
    @discardableResult
    public func resize(capacityBytes: Int64) -> [String] {
        let evicted = state.withLockedValue { $0.resize(capacityBytes: capacityBytes) }
        for path in evicted { unlink(root + "/" + path) }
        return evicted
    }

    /// Bytes held.
    public var usedBytes: Int64 { state.withLockedValue { $0.usedBytes } }

    /// Whether a complete object is stored at `path`.
    public func contains(_ path: String) -> Bool { state.withLockedValue { $0.contains(path) } }

    /// Records a request served from the cache (it keeps popular objects in).
    public func noteHit(_ path: String, size: Int64) {
        _ = state.withLockedValue { $0.request(path, size: size) }
    }

    /// Starts writing the object of `size` bytes that will live at `path`: relative, made of ordinary components (no
    /// `..`, no hidden names), so nothing is ever written outside the cache or into `.partial/`. The partial file is
    /// sparse: verified chunks are written at their offsets in any order.
    public func beginWrite(_ path: String, size: Int64) throws(StorageError) -> PartialObject {
        do {
            try ContentManifest.validatePath(path)
        } catch {
            throw .io(path, "\(error)")
        }
        guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else {
            throw .io(path, "hidden path components are not cached")
        }
        guard path.split(separator: "/").count >= 2, !Self.isMetadata(path) else {
            throw .io(path, "not a content object (content-id/file)")
        }
        var template = Array("\(root)/\(Self.partialDirectory)/object-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path, "cannot create partial file: \(String(cString: strerror(errno)))") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard ftruncate(fd, off_t(size)) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            unlink(temporary)
            throw .io(path, "cannot size partial file: \(reason)")
        }
        return PartialObject(descriptor: fd, temporaryPath: temporary, path: path, size: size)
    }

    /// Whether `path` is a content's manifest, which is kept outside the object budget (it is needed to serve any of
    /// the content's files).
    public static func isMetadata(_ path: some StringProtocol) -> Bool {
        let components = path.split(separator: "/")
        return components.count == 2 && components[1] == "manifest.json"
    }

    /// Deletes objects, least valuable first, until `bytes` are freed (the file system is full before the budget is);
    /// returns the paths deleted.
    @discardableResult
    public func makeRoom(bytes: Int64) -> [String] {
        let evicted = state.withLockedValue { $0.evict(bytes: bytes) }
        for path in evicted { unlink(root + "/" + path) }
        return evicted
    }

    /// Deletes the object at `path` (its content was republished with different bytes).
    public func remove(_ path: String) {
        let held = state.withLockedValue { policy -> Bool in
            let held = policy.contains(path)
            policy.remove(path)
            return held
        }
        if held { unlink(root + "/" + path) }
    }

    /// Makes a fully written and verified object visible, then evicts what the budget requires. Returns the paths
    /// evicted.
    @discardableResult
    public func commit(_ object: PartialObject) throws(StorageError) -> [String] {
        object.storeUpstreamAge()
        try object.close(sync: true)
        let destination = root + "/" + object.path
        let directory = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            unlink(object.temporaryPath)
            throw .io(object.path, "cannot create directory: \(error.localizedDescription)")
        }
        guard rename(object.temporaryPath, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(object.temporaryPath)
            throw .io(object.path, "cannot commit: \(reason)")
        }
        let evicted = state.withLockedValue { policy -> [String] in
            policy.remove(object.path)
            let outcome = policy.request(object.path, size: object.size)
            return outcome.evicted + (policy.contains(object.path) ? [] : [object.path])
        }
        for path in evicted { unlink(root + "/" + path) }
        return evicted
    }

    /// Throws away a partial object (failed verification, failed fill).
    public func discard(_ object: PartialObject) {
        try? object.close(sync: false)
        unlink(object.temporaryPath)
    }

    /// Regular files under `root` (outside `.partial`), oldest modification first.
    private static func scan(_ root: String) -> [(path: String, size: Int64)] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [(path: String, size: Int64, modified: Date)] = []
        while let relative = enumerator.nextObject() as? String {
            // Hidden names (`.partial/`, the directory lock) are never cache objects.
            if relative.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            guard !isMetadata(relative), let attributes = enumerator.fileAttributes,
                  attributes[.type] as? FileAttributeType == .typeRegular, let size = attributes[.size] as? Int64 else { continue }
            found.append((relative, size, attributes[.modificationDate] as? Date ?? .distantPast))
        }
        return found.sorted { ($0.modified, $0.path) < ($1.modified, $1.path) }.map { ($0.path, $0.size) }
    }
}

/// An object being written into the cache; invisible until committed. Chunks are written at their offsets (any order,
/// several writers), and a reader may send the verified parts while the rest is still being filled.
public final class PartialObject: @unchecked Sendable {
    let descriptor: Int32
    let temporaryPath: String
    /// Where the object will live, relative to the cache root.
    public let path: String
    /// The object's full size.
    public let size: Int64
    private let closed = NIOLockedValueBox(false)
    /// The largest `Age` a parent reported for these bytes (RFC 9111 §5.1: the age they had on arrival).
    private let upstreamAge = NIOLockedValueBox<Int64>(0)

    /// The extended attribute that carries the age an object had when it arrived, with the object.
    public static let upstreamAgeAttribute = "user.edgenode.upstream-age"

    /// Records a parent's `Age` for these bytes (the largest is kept: the conservative one).
    public func noteUpstreamAge(_ seconds: Int64) {
        upstreamAge.withLockedValue { $0 = max($0, seconds) }
    }

    init(descriptor: Int32, temporaryPath: String, path: String, size: Int64) {
        self.descriptor = descriptor
        self.temporaryPath = temporaryPath
        self.path = path
        self.size = size
    }

    deinit { if !closed.withLockedValue({ $0 }) { Glibc.close(descriptor) } }

    /// Writes verified bytes at `offset`.
    public func write<Bytes: ContiguousBytes>(_ bytes: Bytes, at offset: Int64) throws(StorageError) {
        let failure: Int32? = bytes.withUnsafeBytes { raw in
            guard offset >= 0, offset + Int64(raw.count) <= size else { return EINVAL }
            var done = 0
            while done < raw.count {
                let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
                if n < 0 { if errno == EINTR { continue }; return errno }
                done += n
            }
            return nil
        }
        if let failure { throw .io(path, "cannot write to the cache: \(String(cString: strerror(failure)))") }
    }

    /// Keeps the upstream age with the file (an extended attribute: it moves with the inode on rename). A file system
    /// without user attributes loses it, and `Age` then counts this cache's time only.
    func storeUpstreamAge() {
        let age = upstreamAge.withLockedValue { $0 }
        guard age > 0 else { return }
        let text = Array(String(age).utf8)
        _ = edgesys_set_attribute(descriptor, Self.upstreamAgeAttribute, text, UInt(text.count))
    }

    /// A new descriptor of the partial file for reading (sendfile), valid after commit or discard; the caller closes it.
    public func duplicateDescriptor() -> Int32 { fcntl(descriptor, F_DUPFD_CLOEXEC, 0) }

    func close(sync: Bool) throws(StorageError) {
        guard !closed.withLockedValue({ was in defer { was = true }; return was }) else { return }
        let synced = !sync || fsync(descriptor) == 0
        let reason = synced ? "" : String(cString: strerror(errno))
        Glibc.close(descriptor)
        if !synced { throw .io(path, "cannot sync: \(reason)") }
    }
}
