import Foundation

/// An export of the log (`GET /v1/export`) read back: JSON (with the signed checkpoint of its end, when one was
/// issued at that size) or CSV (the checkpoint comes separately).
public struct LedgerExport: Sendable {
    public var log: String?
    public var start: Int
    public var end: Int
    public var checkpoint: String?
    public var entries: [ExportedEntry]

    public enum ParseError: Error, CustomStringConvertible {
        case json(String)
        case csv(line: Int, String)

        public var description: String {
            switch self {
            case .json(let reason): "export (JSON): \(reason)"
            case .csv(let line, let reason): "export (CSV) line \(line): \(reason)"
            }
        }
    }

    private struct JSONForm: Decodable {
        var log: String?
        var start: Int
        var end: Int
        var checkpoint: String?
        var entries: [ExportedEntry]
    }

    /// Reads a JSON export.
    public init(json data: Data) throws {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let form = try decoder.decode(JSONForm.self, from: data)
            self.init(log: form.log, start: form.start, end: form.end, checkpoint: form.checkpoint, entries: form.entries)
        } catch {
            throw ParseError.json("\(error)")
        }
    }

    /// The CSV export's header line.
    public static let csvHeader = "index,committed_at,idempotency_key,kind,memo,postings,leaf_hash,leaf"

    /// Reads a CSV export (RFC 4180 fields written by `CSVCell`; the header must be `csvHeader`).
    public init(csv text: String) throws {
        let records = try CSVReader.records(text)
        guard let header = records.first, header.fields.joined(separator: ",") == Self.csvHeader else {
            throw ParseError.csv(line: 1, "the header must be \(Self.csvHeader)")
        }
        var entries: [ExportedEntry] = []
        for record in records.dropFirst() {
            let fields = record.fields.map(CSVCell.decode)
            guard fields.count == 8 else { throw ParseError.csv(line: record.line, "expected 8 fields, found \(fields.count)") }
            guard let index = UInt64(fields[0]), let committedAt = Int64(fields[1]) else {
                throw ParseError.csv(line: record.line, "index and committed_at must be integers")
            }
            var postings: [ExportedPosting] = []
            for text in fields[5].split(separator: ";", omittingEmptySubsequences: false) {
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, let amount = Int64(parts[2]) else {
                    throw ParseError.csv(line: record.line, "posting \"\(text.prefix(80))\" is not side:account:amount")
                }
                postings.append(ExportedPosting(account: String(parts[1]), side: String(parts[0]), amount: amount))
            }
            entries.append(ExportedEntry(index: index, committedAt: committedAt, idempotencyKey: fields[2], kind: fields[3], memo: fields[4],
                                       postings: postings, leaf: fields[7], leafHash: fields[6]))
        }
        let start = entries.first.map { Int($0.index) } ?? 0
        self.init(log: nil, start: start, end: start + entries.count, checkpoint: nil, entries: entries)
    }

    public init(log: String?, start: Int, end: Int, checkpoint: String?, entries: [ExportedEntry]) {
        self.log = log
        self.start = start
        self.end = end
        self.checkpoint = checkpoint
        self.entries = entries
    }
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
enum CSVReader {
    struct Record {
        var line: Int
        var fields: [String]
    }

    static func records(_ text: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        func flushRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields = []
        }
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case ",": fields.append(field); field = ""
            case "\r": continue
            case "\n":
                flushRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw LedgerExport.ParseError.csv(line: recordLine, "unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { flushRecord() }
        return records
    }
}
