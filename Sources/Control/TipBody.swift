import Foundation
import Ledger
import Royalty

/// `POST /v1/tips`:
///
/// ```json
/// {"idempotency_key": "pi_3Nf…", "artist": "luna", "amount": 500, "currency": "EUR", "source": "stripe",
///  "memo": "for the encore"}
/// ```
enum TipBody {
    /// Decodes and validates a body into the tip's transfer (`Tips`); every failure is a 400 that says what and where.
    static func transfer(from data: Data, artistShareBasisPoints: UInt16) throws -> Transfer {
        let body = try PaymentBody.decode(data, ownField: "artist", maximumKeyBytes: Transfer.maximumKeyBytes - 4, code: "invalid_tip")
        switch Result(catching: { () throws(LedgerError) in
            try Tips.transfer(key: body.idempotencyKey, artist: body.own, amount: body.amount, currency: Currency(body.currency),
                              source: body.source, artistShareBasisPoints: artistShareBasisPoints, memo: body.memo ?? "")
        }) {
        case .success(let transfer): return transfer
        case .failure(let error): throw ControlError(.badRequest, "invalid_tip", error.description)
        }
    }
}
