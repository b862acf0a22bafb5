import Foundation
import Ledger
import Royalty

/// `POST /v1/payout-runs`: `{"period": "2026-11", "currency": "EUR"}`.
struct PayoutRunBody: Decodable {
    let period: String
    let currency: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: ["period", "currency"])
        period = try container.decode(String.self, forKey: AnyKey(stringValue: "period"))
        currency = try container.decode(String.self, forKey: AnyKey(stringValue: "currency"))
    }

    /// Decodes and validates a body into the run's id; every failure is a 400 naming the field.
    static func run(from data: Data) throws -> PayoutRun.ID {
        let body: PayoutRunBody = try TransferBody.decode(data)
        guard let month = Month(body.period) else {
            throw ControlError(.badRequest, "invalid_payout_run", "period: \"\(body.period.prefix(20))\" is not YYYY-MM (2000-01 to 9999-12)")
        }
        switch Result(catching: { () throws(LedgerError) in try Currency(body.currency) }) {
        case .success(let currency): return PayoutRun.ID(month: month, currency: currency)
        case .failure(let error): throw ControlError(.badRequest, "invalid_payout_run", "currency: \(error)")
        }
    }
}
