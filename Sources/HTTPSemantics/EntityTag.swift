/// RFC 9110 §8.8.3 entity tags and the comparisons of §8.8.3.2.
public struct EntityTag: Equatable, Sendable, CustomStringConvertible {
    public let opaque: String
    public let isWeak: Bool

    public init(opaque: String, weak: Bool = false) {
        self.opaque = opaque
        isWeak = weak
    }

    /// `"opaque"` or `W/"opaque"`.
    public var description: String { (isWeak ? "W/" : "") + "\"\(opaque)\"" }

    /// Both strong and identical.
    public func strongMatches(_ other: EntityTag) -> Bool { !isWeak && !other.isWeak && opaque == other.opaque }

    /// Identical opaque tags, weakness ignored.
    public func weakMatches(_ other: EntityTag) -> Bool { opaque == other.opaque }

    /// A parsed `If-Match` / `If-None-Match` value.
    public enum Condition: Equatable, Sendable {
        case any
        case tags([EntityTag])
        /// Unparseable: treated as matching nothing.
        case malformed
    }

    /// Parses `*` or a comma-separated list of entity tags.
    public static func parseList(_ value: Substring) -> Condition {
        let trimmed = value.trimming(while: { $0 == " " || $0 == "\t" })
        if trimmed == "*" { return .any }
        var tags: [EntityTag] = []
        var rest = trimmed[...]
        while !rest.isEmpty {
            rest = rest.trimming(while: { $0 == " " || $0 == "\t" || $0 == "," })
            if rest.isEmpty { break }
            var weak = false
            if rest.hasPrefix("W/") {
                weak = true
                rest = rest.dropFirst(2)
            }
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return .malformed }
            let opaque = rest[rest.index(after: rest.startIndex)..<close]
            guard opaque.unicodeScalars.allSatisfy({ $0.value == 0x21 || ($0.value >= 0x23 && $0.value != 0x7f) }) else {
                return .malformed
            }
            tags.append(EntityTag(opaque: String(opaque), weak: weak))
            rest = rest[rest.index(after: close)...]
            let next = rest.trimming(while: { $0 == " " || $0 == "\t" })
            guard next.isEmpty || next.first == "," else { return .malformed }
            rest = next
        }
        return tags.isEmpty ? .malformed : .tags(tags)
    }

    /// Parses one entity tag (an `If-Range` value that is not a date).
    public static func parse(_ value: Substring) -> EntityTag? {
        guard case .tags(let tags) = parseList(value), tags.count == 1 else { return nil }
        return tags[0]
    }
}
