#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a directory a node owns (its content or cache directory, its ledger's directory), held for
/// the life of the process: a second process for the same node fails at start with a clear error instead of sharing
/// — and corrupting — the first one's files. The lock is `flock(2)` on a hidden file in the directory, so it is
/// released by the kernel however the holder ends (kill -9 included).
public final class DirectoryLock: Sendable {
    /// The lock file's name inside a content or cache directory (hidden names are never served or cached).
    public static let fileName = ".edgenode.lock"
    private let descriptor: Int32

    /// Takes the lock `fileName` in `directory` (which must exist) without waiting; throws if another process holds
    /// it.
    public init(directory: String, fileName: String = DirectoryLock.fileName) throws(StorageError) {
        let path = directory + "/" + fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .io(directory, errno == ENOENT ? "no such directory" : "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another edgenode process is using this directory" : String(cString: strerror(errno))
            close(descriptor)
            throw .io(directory, reason)
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
