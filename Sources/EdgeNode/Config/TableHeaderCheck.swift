/// toml++ (inside TOMLKit) aborts the process — an assertion, even in release builds — on a table header whose first
/// key starts with a character that can start no key (`[,x]`, `[.a]`, `[[,x]]`) or is missing (`[[` at the end of a
/// line), instead of reporting a parse error.
/// Every other malformed key gets a proper error, so this check covers exactly that opening, before toml++ sees the
/// text. It skips multi-line strings; a line of a multi-line array that starts with `[` and then such a character is
/// also refused, which only rejects arrays `nodes.conf` never uses.
enum TableHeaderCheck {
    /// The 1-based line and column of the first table header whose first key cannot start, if any.
    static func firstBadHeader(in text: String) -> (line: Int, column: Int)? {
        var inMultilineString: String?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let delimiter = inMultilineString {
                if line.components(separatedBy: delimiter).count.isMultiple(of: 2) { inMultilineString = nil }
                continue
            }
            for delimiter in ["\"\"\"", "'''"] where line.components(separatedBy: delimiter).count.isMultiple(of: 2) {
                inMultilineString = delimiter
            }
            var cursor = line.drop { $0 == " " || $0 == "\t" }
            guard cursor.first == "[" else { continue }
            cursor = cursor.dropFirst()
            if cursor.first == "[" { cursor = cursor.dropFirst() }
            cursor = cursor.drop { $0 == " " || $0 == "\t" }
            // A header's key cannot continue on the next line either (`[[` alone on a line also aborts toml++).
            guard let first = cursor.first, first != "\r" else {
                return (index + 1, line.distance(from: line.startIndex, to: cursor.startIndex) + 1)
            }
            let startsKey = first.isASCII && (first.isLetter || first.isNumber || first == "_" || first == "-")
                || first == "\"" || first == "'" || first == "]"
            if !startsKey {
                return (index + 1, line.distance(from: line.startIndex, to: cursor.startIndex) + 1)
            }
        }
        return nil
    }
}
