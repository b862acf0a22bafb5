import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The level a process logs at, shared by every logger it made, so that a reload can change it.
public final class LogLevelSwitch: Sendable {
    private let raw: Atomic<UInt8>

    public init(_ level: Logger.Level) { raw = Atomic(Self.code(level)) }

    public var level: Logger.Level {
        get { Self.levels[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static let levels = Logger.Level.allCases
    private static func code(_ level: Logger.Level) -> UInt8 { UInt8(levels.firstIndex(of: level)!) }
}

/// swift-log's handler for the daemon: one line per event on stderr in a `LogFormat`, at the level of a shared
/// `LogLevelSwitch` (unless a logger set its own). The node's name (metadata `node`) labels the line.
public struct NodeLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let levelSwitch: LogLevelSwitch
    private var ownLevel: Logger.Level?

    public init(label: String, format: LogFormat, level: LogLevelSwitch) {
        self.label = label
        self.format = format
        levelSwitch = level
    }

    public var logLevel: Logger.Level {
        get { ownLevel ?? levelSwitch.level }
        set { ownLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let name = merged.removeValue(forKey: "node").map { "\($0)" } ?? label
        let line = format.line(level: event.level, label: name, message: "\(event.message)", metadata: merged, time: Date()) + "\n"
        LogOutput.write(line)
    }
}

/// Whole lines to file descriptor 2, one writer at a time.
enum LogOutput {
    private static let lock = Mutex(())

    static func write(_ line: String) {
        let bytes = Array(line.utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if written > 0 { offset += written } else if errno != EINTR { return }
            }
        }
    }
}
