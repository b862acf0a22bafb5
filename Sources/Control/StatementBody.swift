import Foundation
import Royalty

/// `POST /v1/statements`: a DSP's statement for a month, its CSV in `statement` (format: `DSPStatement`).
///
/// ```json
/// {"dsp": "spotify", "period": "2026-11",
///  "statement": "SalesTransactionId,ResourceISRC,ContentId,ArtistId,Territory,UseType,Usages,NetRevenue,Currency\n…"}
/// ```
struct StatementBody: Decodable {
    /// The largest body: a statement's CSV of up to 32 MiB, JSON-escaped.
    static let maximumBytes = 48 << 20

    let dsp: String
    let period: String
    let statement: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: ["dsp", "period", "statement"])
        dsp = try container.decode(String.self, forKey: AnyKey(stringValue: "dsp"))
        period = try container.decode(String.self, forKey: AnyKey(stringValue: "period"))
        statement = try container.decode(String.self, forKey: AnyKey(stringValue: "statement"))
    }

    /// Decodes and validates a body; every failure is a 400 naming the field (and the statement's line).
    static func parse(_ data: Data) throws -> (dsp: String, period: Month, statement: DSPStatement) {
        let body: StatementBody = try TransferBody.decode(data)
        func invalid(_ message: String) -> ControlError { ControlError(.badRequest, "invalid_statement", message) }
        guard StatementImport.isDSPName(body.dsp) else {
            throw invalid("dsp: \"\(body.dsp.prefix(40))\" must be 1-\(StatementImport.maximumDSPBytes) of a-z 0-9 . _ -, starting with a letter or digit")
        }
        guard let period = Month(body.period) else { throw invalid("period: \"\(body.period.prefix(20))\" is not YYYY-MM (2000-01 to 9999-12)") }
        guard body.statement.utf8.count <= 32 << 20 else { throw invalid("statement: larger than 32 MiB; split it") }
        do {
            return (body.dsp, period, try DSPStatement(csv: body.statement))
        } catch {
            throw invalid("statement: \(error)")
        }
    }
}
