import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a reader sees either the old content or the whole new content: write to a temporary file
/// in the same directory, fsync, set the mode explicitly (not subject to umask), rename, fsync the directory.
public enum AtomicFile {
    /// Writes `data` to `path` with `mode`. With `replace: false`, an existing file is an error. `modified` (seconds
    /// since the epoch) sets the file's modification time, e.g. to the origin's Last-Modified.
    public static func write(_ data: Data, to path: String, mode: mode_t, replace: Bool, modified: Int64? = nil) throws(StorageError) {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        if !replace && FileManager.default.fileExists(atPath: path) { throw .exists(path) }
        var template = Array("\(directory)/.\((path as NSString).lastPathComponent).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path, String(cString: strerror(errno))) }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var committed = false
        defer {
            if !committed { unlink(temporary) }
        }
        guard fchmod(fd, mode) == 0 else {
            close(fd)
            throw .io(path, String(cString: strerror(errno)))
        }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        // UTIME_OMIT (Linux: (1 << 30) - 2) leaves the access time alone.
        let omit = (1 << 30) - 2
        var times = [timespec(tv_sec: 0, tv_nsec: omit), timespec(tv_sec: 0, tv_nsec: omit)]
        if let modified { times[1] = timespec(tv_sec: Int(modified), tv_nsec: 0) }
        guard written, modified == nil || futimens(fd, &times) == 0, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .io(path, reason)
        }
        close(fd)
        let renamed = replace ? rename(temporary, path) : link(temporary, path)
        guard renamed == 0 else {
            throw errno == EEXIST ? .exists(path) : .io(path, String(cString: strerror(errno)))
        }
        if !replace { unlink(temporary) }
        committed = true
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Reads at most `limit` bytes; a larger file is an error rather than a memory blow-up.
    public static func read(_ path: String, limit: Int) throws(StorageError) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileManager.default.fileExists(atPath: path) ? .io(path, "permission denied") : .missing(path)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw .io(path, error.localizedDescription)
        }
        guard data.count <= limit else { throw .tooLarge(path, limit) }
        return data
    }
}

/// A file-system failure, naming the path.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    case exists(String)
    case missing(String)
    case tooLarge(String, Int)
    case io(String, String)

    public var description: String {
        switch self {
        case .exists(let path), .missing(let path), .tooLarge(let path, _), .io(let path, _): "\(path): \(reason)"
        }
    }

    /// What went wrong, without the path (for messages that name the file already).
    public var reason: String {
        switch self {
        case .exists: "already exists"
        case .missing: "no such file"
        case .tooLarge(_, let limit): "larger than \(limit) bytes"
        case .io(_, let reason): reason
        }
    }
}
