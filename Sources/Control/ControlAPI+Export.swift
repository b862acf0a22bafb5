import Foundation
import Hummingbird
import Ledger
import LedgerStore
import NIOCore

/// `GET /v1/export`: a range of the log as JSON or CSV, streamed page by page, each entry with its canonical bytes and
/// leaf hash so an auditor can rebuild the root from the export alone (`edgenode ledger verify --export`). The
/// default range is the whole log up to the latest checkpoint, whose signed note the JSON export carries.
extension ControlAPI {
    /// The CSV header; `postings` is `side:account:amount` joined by `;`.
    public static let csvHeader = LedgerExport.csvHeader

    func export(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["start", "end", "format"])
        let format = query.string("format") ?? "json"
        guard format == "json" || format == "csv" else { throw ControlError.badRequest("format must be json or csv") }
        let store = ledger.store
        let latest = try storeCall { () throws(StoreError) in try store.latestCheckpoint() }
        let size = Int64(store.size)
        let start = try query.logPosition("start", size: size, default: 0)
        let end = try query.logPosition("end", size: size, default: max(start, Int64(latest?.size ?? Int(size))))
        guard end >= start else { throw ControlError.badRequest("end (\(end)) must not be before start (\(start))") }
        let note = try storeCall { () throws(StoreError) in try store.checkpoint(size: Int(end)) }
        let log = ledger.logOrigin
        let body = ResponseBody { writer in
            let encoder = Views.encoder()
            if format == "json" {
                var head = "{\"log\":" + Self.jsonString(log) + ",\"start\":\(start),\"end\":\(end),\"checkpoint\":"
                head += note.map { Self.jsonString($0.rendered) } ?? "null"
                head += ",\"entries\":["
                try await writer.write(ByteBuffer(string: head))
            } else {
                try await writer.write(ByteBuffer(string: Self.csvHeader + "\n"))
            }
            var next = Int(start)
            while next < Int(end) {
                let pageEnd = min(Int(end), next + Self.maximumPage)
                let page = try store.entries(from: next, to: pageEnd)
                var buffer = ByteBuffer()
                for entry in page {
                    if format == "json" {
                        if entry.index > UInt64(start) { buffer.writeString(",") }
                        buffer.writeBytes(try encoder.encode(Views.Entry(entry)))
                    } else {
                        buffer.writeString(Self.csvLine(Views.Entry(entry)))
                    }
                }
                try await writer.write(buffer)
                next = pageEnd
            }
            if format == "json" { try await writer.write(ByteBuffer(string: "]}")) }
            try await writer.finish(nil)
        }
        let type = format == "json" ? "application/json" : "text/csv; charset=utf-8"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"], body: body)
    }

    public static func csvLine(_ entry: Views.Entry) -> String {
        let postings = entry.postings.map { "\($0.side):\($0.account):\($0.amount)" }.joined(separator: ";")
        return [String(entry.index), String(entry.committedAt), entry.idempotencyKey, entry.kind, entry.memo, postings, entry.leafHash,
                entry.leaf].map(CSVCell.encode).joined(separator: ",") + "\n"
    }

    static func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
