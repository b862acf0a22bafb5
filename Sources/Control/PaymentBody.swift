import Foundation
import Ledger

/// The JSON body shared by `POST /v1/tips` and `POST /v1/subscriptions/payments`: a payment from a processor, with
/// `idempotency_key` (the payment's own id), `amount` (minor units), `currency`, `source` (the payment source:
/// `external/SOURCE/CUR` is debited), an optional `memo`, and one field of the endpoint's own (`artist` for a tip,
/// `month` for a subscription payment). Unknown fields are refused and every error names the field.
struct PaymentBody: Decodable {
    /// The name of the endpoint's own field, passed in the decoder's `userInfo`.
    static let ownField = CodingUserInfoKey(rawValue: "edgenode.payment.own-field")!

    let idempotencyKey: String
    let amount: Int64
    let currency: String
    let source: String
    let memo: String?
    /// The value of the endpoint's own field.
    let own: String

    init(from decoder: any Decoder) throws {
        let ownName = decoder.userInfo[Self.ownField] as? String ?? "artist"
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: ["idempotency_key", ownName, "amount", "currency", "source", "memo"])
        func key(_ name: String) -> AnyKey { AnyKey(stringValue: name) }
        idempotencyKey = try container.decode(String.self, forKey: key("idempotency_key"))
        own = try container.decode(String.self, forKey: key(ownName))
        amount = try TransferBody.decodeAmount(container, forKey: key("amount"))
        currency = try container.decode(String.self, forKey: key("currency"))
        source = try container.decode(String.self, forKey: key("source"))
        // Absent is fine; null is not a memo.
        memo = container.contains(key("memo")) ? try container.decode(String.self, forKey: key("memo")) : nil
    }

    /// Decodes a body whose own field is `ownField`, and checks the payment key: it becomes part of a ledger key
    /// behind a prefix, so at most `maximumKeyBytes` of printable ASCII.
    static func decode(_ data: Data, ownField: String, maximumKeyBytes: Int, code: String) throws -> PaymentBody {
        let body: PaymentBody = try TransferBody.decode(data, userInfo: [Self.ownField: ownField])
        let bytes = body.idempotencyKey.utf8
        guard (1...maximumKeyBytes).contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ControlError(.badRequest, code, "idempotency_key: 1 to \(maximumKeyBytes) bytes of printable ASCII without spaces")
        }
        return body
    }
}
