import Foundation
import Ledger
import Royalty

/// `POST /v1/subscriptions/payments`:
///
/// ```json
/// {"idempotency_key": "in_1Oa…", "month": "2026-11", "amount": 999, "currency": "EUR", "source": "stripe"}
/// ```
/// The payment goes to the platform's pool of `month`.
enum SubscriptionPaymentBody {
    /// The longest payment key: the ledger key adds `subscription:YYYY-MM:` (21 bytes).
    static let maximumKeyBytes = Transfer.maximumKeyBytes - 21

    /// Decodes and validates a body into the payment's transfer (`Subscriptions`); every failure is a 400 that says
    /// what and where.
    static func transfer(from data: Data) throws -> Transfer {
        let body = try PaymentBody.decode(data, ownField: "month", maximumKeyBytes: maximumKeyBytes, code: "invalid_payment")
        guard let month = Month(body.own) else {
            throw ControlError(.badRequest, "invalid_payment", "month: \"\(body.own.prefix(20))\" is not YYYY-MM (2000-01 to 9999-12)")
        }
        switch Result(catching: { () throws(LedgerError) in
            try Subscriptions.transfer(key: body.idempotencyKey, month: month, amount: body.amount, currency: Currency(body.currency),
                                       source: body.source, memo: body.memo ?? "")
        }) {
        case .success(let transfer): return transfer
        case .failure(let error): throw ControlError(.badRequest, "invalid_payment", error.description)
        }
    }
}
