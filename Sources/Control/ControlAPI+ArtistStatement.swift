import Foundation
import Hummingbird
import Ledger
import LedgerStore
import NIOCore
import Royalty

/// `GET /v1/artists/{artist}/statement?period=YYYY-MM[&format=csv]`: an artist's month — totals earned, withheld, paid,
/// pending, and a line per source, each naming its ledger entries — and how far the receipt for the same month proves
/// them: `provenThrough`, the latest checkpoint's tree size, with the entries at or above it marked unproven.
extension ControlAPI {
    func artistStatement(_ request: Request, context: ControlContext, scope: Scope) throws -> Response {
        let query = try QueryParameters(request, allowed: ["period", "format"])
        let artist = try Self.artistParameter(context)
        if case .artist(let id) = scope, id != artist { throw ControlError.forbidden("scope \(scope) may only read its own statements") }
        guard let text = query.string("period"), let period = Month(text) else {
            throw ControlError.badRequest("period is required as YYYY-MM (2000-01 to 9999-12)")
        }
        let format = query.string("format") ?? "json"
        guard format == "json" || format == "csv" else { throw ControlError.badRequest("format must be json or csv") }
        // The horizon first: entries committed after it are marked unproven, never claimed proven.
        let provenThrough = try storeCall { () throws(StoreError) in try ledger.store.latestCheckpoint() }.map { UInt64($0.size) } ?? 0
        let entries = try storeCall { () throws(StoreError) in try ledger.store.artistEntries(artist) }
        let keys = ArtistStatement.settlementKeys(artist: artist, entries: entries)
        let settlements = try storeCall { () throws(StoreError) in try ledger.store.entries(keys: keys) }
        let statement: ArtistStatement
        do {
            statement = try ArtistStatement(artist: artist, period: period, entries: entries, settlements: settlements)
        } catch {
            throw ControlError(.unprocessableContent, "overflow", error.description)
        }
        let from = period.startSeconds * 1000, to = period.endSeconds * 1000
        let view = Views.ArtistStatement(
            artist: artist, period: period.description, from: from, to: to, receipt: "/v1/artists/\(artist)/receipt?from=\(from)&to=\(to)",
            provenThrough: provenThrough,
            totals: statement.totals.map {
                Views.StatementTotals(currency: $0.currency.code, opening: $0.opening, earned: $0.earned, withheld: $0.withheld, paid: $0.paid,
                                      pending: $0.pending, returned: $0.returned, closing: $0.closing)
            },
            lines: statement.lines.map { line in
                let unproven = line.entries.filter { $0 >= provenThrough }
                return Views.ArtistStatementLine(source: line.source.name, detail: line.source.detail, currency: line.currency.code, amount: line.amount,
                                                 entries: line.entries, unproven: unproven.isEmpty ? nil : unproven)
            })
        guard format == "csv" else { return try Self.json(view) }
        return Response(status: .ok, headers: [.contentType: "text/csv", .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"statement-\(artist)-\(period).csv\""],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: Self.csv(statement, provenThrough: provenThrough))))
    }

    /// `section,source,detail,currency,amount,minor_units,entries`: the totals, the lines (entries separated by spaces),
    /// then the proof's horizon — `proof,proven_through,,,,SIZE,ENTRIES`: the receipt proves the entries below SIZE,
    /// ENTRIES lists those the receipt cannot prove yet — every cell by `CSVCell`.
    static func csv(_ statement: ArtistStatement, provenThrough: UInt64) -> String {
        var rows = [["section", "source", "detail", "currency", "amount", "minor_units", "entries"]]
        for total in statement.totals {
            for (name, value) in [("opening", total.opening), ("earned", total.earned), ("withheld", total.withheld), ("paid", total.paid),
                                  ("pending", total.pending), ("returned", total.returned), ("closing", total.closing)] {
                rows.append(["total", name, "", total.currency.code, total.currency.format(value), "\(value)", ""])
            }
        }
        for line in statement.lines {
            rows.append(["line", line.source.name, line.source.detail ?? "", line.currency.code, line.currency.format(line.amount),
                         "\(line.amount)", line.entries.map(String.init).joined(separator: " ")])
        }
        let unproven = statement.lines.flatMap(\.entries).filter { $0 >= provenThrough }.sorted()
        rows.append(["proof", "proven_through", "", "", "", "\(provenThrough)", unproven.map(String.init).joined(separator: " ")])
        return rows.map { $0.map(CSVCell.encode).joined(separator: ",") + "\r\n" }.joined()
    }
}
