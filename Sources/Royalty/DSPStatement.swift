import Ledger
import Manifest

/// A DSP's statement as edgenode imports it: CSV (RFC 4180, UTF-8, one header line, `#` comments), one line per
/// sale or usage, with DDEX DSR cell names where DSR has them:
///
/// ```
/// SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency
/// tx-0001,USRC17607839,,,FR,Stream,12000,38.40,EUR
/// tx-0002,,song-1,luna,DE,Stream,500,1.60,EUR
/// ```
/// `SalesTransactionId` (unique in the file), `Usages`, `NetRevenue` and `Currency` are required; each line names its
/// recording by `ResourceISRC` or `ContentId` (or both); `ArtistId`, `Territory` and `UseType` are optional; columns
/// may come in any order, unknown ones are refused. `NetRevenue` is a plain decimal at the currency's precision
/// (exact, never floating point: a DSP's sub-cent per-stream amounts are summed per line before import).
public struct DSPStatement: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        /// 1-based line number in the file.
        public let number: Int
        public let transactionID: String
        public let isrc: ISRC?
        public let contentID: String?
        public let artistID: String?
        public let territory: String?
        public let useType: String?
        public let usages: UInt64
        /// Minor units of `currency`.
        public let amount: Int64
        public let currency: Currency

        public init(number: Int, transactionID: String, isrc: ISRC?, contentID: String?, artistID: String?, territory: String?,
                    useType: String?, usages: UInt64, amount: Int64, currency: Currency) {
            self.number = number
            self.transactionID = transactionID
            self.isrc = isrc
            self.contentID = contentID
            self.artistID = artistID
            self.territory = territory
            self.useType = useType
            self.usages = usages
            self.amount = amount
            self.currency = currency
        }

        /// The fields whose values differ from `other`'s (the line number aside).
        public func differingFields(from other: Line) -> [String] {
            var fields: [String] = []
            if isrc != other.isrc { fields.append("ResourceISRC") }
            if contentID != other.contentID { fields.append("ContentId") }
            if artistID != other.artistID { fields.append("ArtistId") }
            if territory != other.territory { fields.append("Territory") }
            if useType != other.useType { fields.append("UseType") }
            if usages != other.usages { fields.append("Usages") }
            if amount != other.amount { fields.append("NetRevenue") }
            if currency != other.currency { fields.append("Currency") }
            return fields
        }
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public static let columns = ["SalesTransactionId", "ResourceISRC", "ContentId", "ArtistId", "Territory", "UseType", "Usages",
                                 "NetRevenue", "Currency"]
    static let required = ["SalesTransactionId", "Usages", "NetRevenue", "Currency"]
    /// Lines read at most (a statement is imported per DSP and period; larger ones are split by the DSP).
    public static let maximumLines = 1_000_000

    public let lines: [Line]

    public init(lines: [Line]) {
        self.lines = lines
    }

    public init(csv text: String) throws(Invalid) {
        var header: [String: Int]?
        var lines: [Line] = []
        var seen: Set<String> = []
        for (index, line) in CSV.lines(text).enumerated() {
            let number = index + 1
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let cells = CSV.fields(line)
            guard let columns = header else {
                var positions: [String: Int] = [:]
                for (position, name) in cells.enumerated() {
                    guard Self.columns.contains(name) else { throw Invalid(line: number, reason: "unknown column \"\(name.prefix(40))\"") }
                    guard positions[name] == nil else { throw Invalid(line: number, reason: "column \(name) appears twice") }
                    positions[name] = position
                }
                if let missing = Self.required.first(where: { positions[$0] == nil }) {
                    throw Invalid(line: number, reason: "the header lacks \(missing)")
                }
                guard positions["ResourceISRC"] != nil || positions["ContentId"] != nil else {
                    throw Invalid(line: number, reason: "the header needs ResourceISRC or ContentId")
                }
                header = positions
                continue
            }
            guard lines.count < Self.maximumLines else { throw Invalid(line: number, reason: "more than \(Self.maximumLines) lines") }
            guard cells.count == columns.count else {
                throw Invalid(line: number, reason: "\(cells.count) cells, the header has \(columns.count) (trailing empty cells must be kept)")
            }
            lines.append(try Self.line(cells, columns: columns, number: number, seen: &seen))
        }
        guard header != nil else { throw Invalid(line: 1, reason: "no header line") }
        self.lines = lines
    }

    private static func line(_ cells: [String], columns: [String: Int], number: Int, seen: inout Set<String>) throws(Invalid) -> Line {
        func cell(_ name: String) -> String? { columns[name].map { cells[$0] }.flatMap { $0.isEmpty ? nil : $0 } }
        guard let transaction = cell("SalesTransactionId"), transaction.count <= 128,
              transaction.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw Invalid(line: number, reason: "SalesTransactionId must be 1-128 printable ASCII characters")
        }
        guard seen.insert(transaction).inserted else { throw Invalid(line: number, reason: "SalesTransactionId \(transaction) appears twice") }
        var isrc: ISRC?
        if let text = cell("ResourceISRC") {
            do {
                isrc = try ISRC(text)
            } catch {
                throw Invalid(line: number, reason: "ResourceISRC: \(error)")
            }
        }
        let content = cell("ContentId")
        if let content { guard (try? ContentManifest.validateIdentifier(content, field: "ContentId")) != nil else {
            throw Invalid(line: number, reason: "ContentId \"\(content.prefix(40))\" is not a content id")
        } }
        guard isrc != nil || content != nil else { throw Invalid(line: number, reason: "neither ResourceISRC nor ContentId") }
        let artist = cell("ArtistId")
        if let artist, (try? Account(.artist(artist), Currency("EUR"))) == nil {
            throw Invalid(line: number, reason: "ArtistId \"\(artist.prefix(40))\" is not an artist id")
        }
        let territory = cell("Territory")
        if let territory, territory.count != 2 || !territory.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) {
            throw Invalid(line: number, reason: "Territory \"\(territory.prefix(8))\" is not an ISO 3166 alpha-2 code")
        }
        guard let usagesText = cell("Usages"), usagesText.allSatisfy(\.isASCII), let usages = UInt64(usagesText) else {
            throw Invalid(line: number, reason: "Usages must be a whole number")
        }
        let currency: Currency
        do {
            currency = try Currency(cell("Currency") ?? "")
        } catch {
            throw Invalid(line: number, reason: "Currency: \(error)")
        }
        let amount: Int64
        do {
            amount = try currency.minorUnits(cell("NetRevenue") ?? "")
        } catch {
            throw Invalid(line: number, reason: "NetRevenue: \(error)")
        }
        return Line(number: number, transactionID: transaction, isrc: isrc, contentID: content, artistID: artist, territory: territory,
                    useType: cell("UseType"), usages: usages, amount: amount, currency: currency)
    }
}

/// RFC 4180 cells of one line (quoted cells may hold commas and doubled quotes), for the CSV files read (statements,
/// rates); files written encode their cells with `CSVCell`.
enum CSV {
    /// The lines of `text`, ended by LF or CRLF (a Swift `Character` holds CRLF as one: splitting at "\n" alone would
    /// join CRLF lines).
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    static func fields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                guard character == "\"" else {
                    current.append(character)
                    continue
                }
                guard let next = iterator.next() else {
                    quoted = false
                    break
                }
                if next == "\"" {
                    current.append("\"")
                } else {
                    quoted = false
                    if next == "," {
                        fields.append(current)
                        current = ""
                    } else {
                        current.append(next)
                    }
                }
            } else if character == "\"" && current.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
