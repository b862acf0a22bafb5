import Foundation
import Logging

/// How a node writes its log lines to stderr.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-12-03T02:51:11.123Z info edge-paris: serving listen=127.0.0.2:8080 root="/srv/my cache"` — for a
    /// terminal or a file.
    case text
    /// `<6>edge-paris: serving listen=…` — for the systemd journal, which adds the time and reads the `<N>` prefix
    /// as the line's priority (sd-daemon(3)).
    case journal
    /// One JSON object per line: `time`, `level`, `message`, and every metadata key as a string field.
    case json

    /// The format to use when none is asked for: `journal` when stderr is the journal's stream (systemd sets
    /// `JOURNAL_STREAM` to its `device:inode`), else `text`.
    public static func automatic(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 stderrIdentity: (device: UInt64, inode: UInt64)? = LogFormat.stderrIdentity()) -> LogFormat {
        guard let stream = environment["JOURNAL_STREAM"], let stderrIdentity else { return .text }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return .text }
        return device == stderrIdentity.device && inode == stderrIdentity.inode ? .journal : .text
    }

    /// The device and inode of file descriptor 2.
    public static func stderrIdentity() -> (device: UInt64, inode: UInt64)? {
        var status = stat()
        guard fstat(2, &status) == 0 else { return nil }
        return (UInt64(status.st_dev), UInt64(status.st_ino))
    }

    /// syslog's priority for a level (journal lines, JSON's `priority`).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One log line (without its newline). `label` names the node (or the program); metadata keys are sorted.
    public func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, time: Date) -> String {
        let keys = metadata.keys.sorted()
        switch self {
        case .text:
            var line = Self.timestamp(time) + " " + level.rawValue + " " + label + ": " + Self.singleLine(message)
            for key in keys { line += " " + key + "=" + Self.quoted("\(metadata[key]!)") }
            return line
        case .journal:
            var line = "<\(Self.priority(level))>" + label + ": " + Self.singleLine(message)
            for key in keys { line += " " + key + "=" + Self.quoted("\(metadata[key]!)") }
            return line
        case .json:
            var line = "{\"time\":" + Self.jsonString(Self.timestamp(time)) + ",\"level\":" + Self.jsonString(level.rawValue)
                + ",\"priority\":\(Self.priority(level)),\"node\":" + Self.jsonString(label) + ",\"message\":" + Self.jsonString(message)
            for key in keys where !["time", "level", "priority", "node", "message"].contains(key) {
                line += "," + Self.jsonString(key) + ":" + Self.jsonString("\(metadata[key]!)")
            }
            return line + "}"
        }
    }

    /// A value as a `key=value` token: bare when it holds nothing but printable ASCII other than space, `"` and `\`
    /// (and is not empty); else in double quotes with `"`, `\` and control characters escaped.
    static func quoted(_ value: String) -> String {
        let bare = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "=") }
        return bare ? value : "\"" + escaped(value) + "\""
    }

    /// A message kept on one line: newlines and other control characters escaped.
    static func singleLine(_ message: String) -> String {
        message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? escaped(message) : message
    }

    private static func escaped(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A JSON string literal (RFC 8259 escapes).
    static func jsonString(_ value: String) -> String { "\"" + escaped(value) + "\"" }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = milliseconds % 1000
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: fraction < 10 ? 2 : fraction < 100 ? 1 : 0) + "\(fraction)Z"
    }
}
