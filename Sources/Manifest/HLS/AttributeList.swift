/// RFC 8216 §4.2 attribute lists: `NAME=value` pairs separated by commas, where quoted strings may contain commas.
public enum AttributeList {
    /// Attributes whose value RFC 8216 defines as a quoted-string.
    static let quotedStringAttributes: Set<String> = ["URI", "CODECS", "BYTERANGE", "KEYFORMAT", "KEYFORMATVERSIONS",
                                                      "GROUP-ID", "NAME", "LANGUAGE", "AUDIO", "VIDEO", "SUBTITLES",
                                                      "SERVER-URI", "PATHWAY-ID"]

    /// Parses an attribute list; values keep their quotes stripped. Throws on a malformed pair, a duplicate name, a
    /// quote inside an unquoted value, or an unquoted value for an attribute that must be a quoted-string.
    public static func parse(_ text: Substring, line: Int) throws(PlaylistError) -> [String: String] {
        var result: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else {
                throw PlaylistError(line: line, "attribute without '=' in \"\(text)\"")
            }
            let name = String(text[index..<equals])
            guard !name.isEmpty, name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "-" }) else {
                throw PlaylistError(line: line, "invalid attribute name \"\(name)\"")
            }
            var cursor = text.index(after: equals)
            let value: String
            if cursor < text.endIndex && text[cursor] == "\"" {
                let open = text.index(after: cursor)
                guard let close = text[open...].firstIndex(of: "\"") else {
                    throw PlaylistError(line: line, "unterminated quoted string for \(name)")
                }
                value = String(text[open..<close])
                cursor = text.index(after: close)
            } else {
                let end = text[cursor...].firstIndex(of: ",") ?? text.endIndex
                value = String(text[cursor..<end])
                cursor = end
                guard !value.contains("\""), !quotedStringAttributes.contains(name) else {
                    throw PlaylistError(line: line, "\(name) must be a quoted-string (RFC 8216 §4.2)")
                }
            }
            guard result[name] == nil else { throw PlaylistError(line: line, "duplicate attribute \(name)") }
            result[name] = value
            if cursor < text.endIndex {
                guard text[cursor] == "," else { throw PlaylistError(line: line, "expected ',' after \(name)") }
                cursor = text.index(after: cursor)
                guard cursor < text.endIndex else { throw PlaylistError(line: line, "trailing ',' in attribute list") }
            }
            index = cursor
        }
        return result
    }
}
