/// A playlist that could not be parsed; `line` is 1-based.
public struct PlaylistError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String

    public init(line: Int, _ reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// A rule of RFC 8216, Apple's HLS authoring specification or edgenode's own stricter rules that a parsed
/// playlist breaks.
public struct PlaylistViolation: Equatable, Sendable, CustomStringConvertible {
    /// Where the rule comes from, e.g. "RFC 8216 §4.3.3.1" or "Apple 9.1".
    public let rule: String
    public let message: String

    public init(_ rule: String, _ message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(rule): \(message)" }
}
