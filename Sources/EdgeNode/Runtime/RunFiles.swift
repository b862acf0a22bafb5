import Foundation

/// A node process's files in its content directory, for `edgenode reload`: `.edgenode-NAME.pid` (the process to
/// signal) and `.edgenode-NAME.reload` (the last reload's `ReloadOutcome`). Hidden names: never served nor cached; by
/// node name, as several origins may serve one content directory.
public struct RunFiles: Sendable {
    public let pidPath: String
    public let reloadPath: String

    public init(content: String, node: String) {
        pidPath = content + "/.edgenode-" + node + ".pid"
        reloadPath = content + "/.edgenode-" + node + ".reload"
    }

    /// Writes this process's pid (atomically; a stale file of a crashed process is replaced).
    func writePID() {
        try? AtomicFile.write(Data("\(getpid())\n".utf8), to: pidPath, mode: 0o644, replace: true)
    }

    /// Removes the pid file if it is still this process's.
    func removePID() {
        if (try? readPID()) == getpid() { unlink(pidPath) }
    }

    /// The pid in the pid file.
    public func readPID() throws(StorageError) -> Int32 {
        let text = String(decoding: try AtomicFile.read(pidPath, limit: 64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text), pid > 1 else { throw .io(pidPath, "not a process id: \"\(text.prefix(20))\"") }
        return pid
    }

    func writeReload(_ outcome: ReloadOutcome) throws(StorageError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(outcome) else { throw .io(reloadPath, "cannot encode the reload outcome") }
        try AtomicFile.write(data, to: reloadPath, mode: 0o644, replace: true)
    }

    /// The last reload's outcome, if a node wrote one.
    public func readReload() throws(StorageError) -> ReloadOutcome {
        let data = try AtomicFile.read(reloadPath, limit: 64 * 1024)
        guard let outcome = try? JSONDecoder().decode(ReloadOutcome.self, from: data) else {
            throw .io(reloadPath, "not a reload outcome")
        }
        return outcome
    }
}
