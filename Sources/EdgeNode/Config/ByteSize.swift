/// Sizes in configuration: a plain byte count or a number with a binary unit (`512MiB`, `10GiB`).
enum ByteSize {
    /// The byte count, or nil when malformed or above 2^62.
    static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingPrefix(while: { $0 == " " })
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 18, let number = Int64(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingPrefix(while: { $0 == " " })
        let shifts: [Substring: Int64] = ["": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40]
        guard let shift = shifts[Substring(unit)] else { return nil }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow || value > 1 << 62 ? nil : value
    }
}
