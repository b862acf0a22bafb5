/// One cell of every CSV file the project writes (payout files, artist statements, ledger exports): RFC 4180 quoting,
/// and neutralised against formula injection as OWASP's "CSV Injection" describes — a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is prefixed with a single quote and quoted, so a spreadsheet shows it as text
/// instead of running it (`=HYPERLINK(…)`, `@SUM(A1)`, DDE). Two kinds of cell are kept as they are: a plain decimal
/// number (`-28.89`, `-2889`: an amount, never a formula), and so that reading a file back is exact, a cell starting
/// with a single quote is prefixed with one more (`decode` takes exactly one off).
public enum CSVCell {
    /// The first characters a spreadsheet takes as the start of a formula.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    /// `value` as one cell: neutralised when it could start a formula, quoted (inner quotes doubled) when neutralised
    /// or when it holds a comma, a quote or a line break.
    public static func encode(_ value: String) -> String {
        let neutralised = needsPrefix(value)
        let text = neutralised ? "'" + value : value
        guard neutralised || text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The value of a cell `encode` wrote, once unquoted: the neutralising quote taken off.
    public static func decode(_ cell: String) -> String {
        guard cell.unicodeScalars.first == "'" else { return cell }
        let value = String(cell.unicodeScalars.dropFirst())
        return needsPrefix(value) ? value : cell
    }

    /// Whether `value` starts like a formula (and is not a plain number), or with the neutralising quote itself.
    static func needsPrefix(_ value: String) -> Bool {
        guard let first = value.unicodeScalars.first else { return false }
        if first == "'" { return true }
        return formulaStarts.contains(first) && !isPlainNumber(value)
    }

    /// `-?[0-9]+(.[0-9]+)?`: how the project writes amounts and counts.
    static func isPlainNumber(_ value: String) -> Bool {
        var scalars = Substring(value).unicodeScalars[...]
        if scalars.first == "-" { scalars = scalars.dropFirst() }
        let parts = scalars.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.count <= 2 && value.unicodeScalars.last != "."
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }
    }
}
