import Foundation
import Ledger
import Royalty

/// The JSON body of `POST /v1/tips`:
///
/// ```json
/// {"idempotency_key": "pi_3Nf…", "artist": "luna", "amount": 500, "currency": "EUR", "source": "stripe",
///  "memo": "for the encore"}
/// ```
/// `amount` is in minor units; `source` names the payment source (`external/SOURCE/CUR` is debited). Unknown fields
/// are refused and every error names the field.
struct TipBody: Decodable {
    let idempotencyKey: String
    let artist: String
    let amount: Int64
    let currency: String
    let source: String
    let memo: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case idempotencyKey = "idempotency_key"
        case artist, amount, currency, source, memo
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: CodingKeys.allCases.map(\.rawValue))
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        idempotencyKey = try keyed.decode(String.self, forKey: .idempotencyKey)
        artist = try keyed.decode(String.self, forKey: .artist)
        amount = try TransferBody.decodeAmount(keyed, forKey: .amount)
        currency = try keyed.decode(String.self, forKey: .currency)
        source = try keyed.decode(String.self, forKey: .source)
        // Absent is fine; null is not a memo.
        memo = keyed.contains(.memo) ? try keyed.decode(String.self, forKey: .memo) : nil
    }

    /// Decodes and validates a body into the tip's transfer; every failure is a 400 that says what and where.
    static func transfer(from data: Data, artistShareBasisPoints: UInt16) throws -> Transfer {
        let body: TipBody = try TransferBody.decode(data)
        try PaymentKey.validate(body.idempotencyKey, maximumBytes: Transfer.maximumKeyBytes - 4, code: "invalid_tip")
        switch Result(catching: { () throws(LedgerError) in
            try Tips.transfer(key: body.idempotencyKey, artist: body.artist, amount: body.amount, currency: Currency(body.currency),
                              source: body.source, artistShareBasisPoints: artistShareBasisPoints, memo: body.memo ?? "")
        }) {
        case .success(let transfer): return transfer
        case .failure(let error): throw ControlError(.badRequest, "invalid_tip", error.description)
        }
    }
}
