import Foundation
import Logging
import Metrics
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The optional access log (`access_log` in `nodes.conf`), kept off the hot path: an event loop only appends the
/// finished response's record to a bounded buffer; a thread of the log's own formats and writes the lines every
/// 100 ms. When the writer falls behind (a slow disk), records beyond the buffer are dropped and counted rather than
/// slowing a response. `reopen()` (at each reload) lets logrotate move the file away.
final class AccessLog: Sendable {
    /// Records held before new ones are dropped.
    static let capacity = 65_536

    let path: String
    let format: AccessLogFormat
    private let pending = Mutex<(records: [(ResponseRecord, Double)], reopen: Bool, stopped: Bool)>(([], false, false))
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let dropped = Counter(label: "edgenode_access_log_lines_dropped_total")
    private let logger: Logger

    /// Opens (creating, 0640) `path` for appending and starts the writer thread.
    init(path: String, format: AccessLogFormat, logger: Logger) throws(StorageError) {
        self.path = path
        self.format = format
        self.logger = logger
        let descriptor = try Self.open(path)
        let thread = Thread { [self] in writerLoop(descriptor: descriptor) }
        thread.name = "edgenode-access-log"
        thread.start()
    }

    private static func open(_ path: String) throws(StorageError) -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw .io(path, "cannot open the access log: \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// A response finished `totalSeconds` after it arrived.
    func append(_ record: ResponseRecord, totalSeconds: Double) {
        let accepted = pending.withLock { state -> Bool in
            guard !state.stopped, state.records.count < Self.capacity else { return false }
            state.records.append((record, totalSeconds))
            return true
        }
        if !accepted { dropped.increment() }
    }

    /// Has the writer open the file again by its path (after logrotate moved it) before its next lines; it keeps the
    /// old file, and says so, when that fails.
    func reopen() {
        pending.withLock { $0.reopen = true }
        wake.signal()
    }

    /// Writes what is buffered and stops the writer (at shutdown).
    func stop() {
        pending.withLock { $0.stopped = true }
        wake.signal()
        finished.wait()
    }

    private func writerLoop(descriptor initial: Int32) {
        var descriptor = initial
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(100))
            let (records, reopen, stopped) = pending.withLock { state in
                defer {
                    state.records.removeAll(keepingCapacity: true)
                    state.reopen = false
                }
                return (state.records, state.reopen, state.stopped)
            }
            if reopen {
                do {
                    let fresh = try Self.open(path)
                    close(descriptor)
                    descriptor = fresh
                } catch {
                    logger.error("access log not reopened; writing to the file already open", metadata: ["error": "\(error)"])
                }
            }
            if !records.isEmpty {
                var text = ""
                for (record, total) in records { text += format.line(record, totalSeconds: total) + "\n" }
                Self.writeAll(Array(text.utf8), to: descriptor)
            }
            if stopped {
                close(descriptor)
                finished.signal()
                return
            }
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 { offset += written } else if errno != EINTR { return }
        }
    }
}
