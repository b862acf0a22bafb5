import Foundation
import Ledger
import Royalty

/// The JSON body of `POST /v1/subscriptions/payments`:
///
/// ```json
/// {"idempotency_key": "in_1Oa…", "month": "2026-11", "amount": 999, "currency": "EUR", "source": "stripe"}
/// ```
/// The payment goes to the platform's pool of `month`. Unknown fields are refused and every error names the field.
struct SubscriptionPaymentBody: Decodable {
    let idempotencyKey: String
    let month: String
    let amount: Int64
    let currency: String
    let source: String
    let memo: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case idempotencyKey = "idempotency_key"
        case month, amount, currency, source, memo
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: CodingKeys.allCases.map(\.rawValue))
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        idempotencyKey = try keyed.decode(String.self, forKey: .idempotencyKey)
        month = try keyed.decode(String.self, forKey: .month)
        amount = try TransferBody.decodeAmount(keyed, forKey: .amount)
        currency = try keyed.decode(String.self, forKey: .currency)
        source = try keyed.decode(String.self, forKey: .source)
        memo = keyed.contains(.memo) ? try keyed.decode(String.self, forKey: .memo) : nil
    }

    /// The longest payment key: the ledger key adds `subscription:YYYY-MM:` (21 bytes).
    static let maximumKeyBytes = Transfer.maximumKeyBytes - 21

    /// Decodes and validates a body into the payment's transfer; every failure is a 400 that says what and where.
    static func transfer(from data: Data) throws -> Transfer {
        let body: SubscriptionPaymentBody = try TransferBody.decode(data)
        try PaymentKey.validate(body.idempotencyKey, maximumBytes: maximumKeyBytes, code: "invalid_payment")
        guard let month = Month(body.month) else {
            throw ControlError(.badRequest, "invalid_payment", "month: \"\(body.month.prefix(20))\" is not YYYY-MM (2000-01 to 9999-12)")
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

/// A payment processor's key for a payment, which becomes part of a ledger key.
enum PaymentKey {
    static func validate(_ key: String, maximumBytes: Int, code: String) throws {
        let bytes = key.utf8
        guard (1...maximumBytes).contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ControlError(.badRequest, code, "idempotency_key: 1 to \(maximumBytes) bytes of printable ASCII without spaces")
        }
    }
}
