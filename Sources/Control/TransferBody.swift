import Foundation
import Ledger

/// The JSON body of `POST /v1/transfers`:
///
/// ```json
/// {"idempotency_key": "dsr-2026-10/line-17", "kind": "royalty", "memo": "October streams",
///  "postings": [{"account": "external/dsp-a/EUR", "side": "debit", "amount": 1234},
///               {"account": "artist/a1/EUR", "side": "credit", "amount": 1234}]}
/// ```
/// Amounts are integers in minor units (cents for EUR). Unknown fields are refused, and every error names the field.
struct TransferBody: Decodable {
    struct PostingBody: Decodable {
        let account: String
        let side: String
        let amount: Int64

        enum CodingKeys: String, CodingKey, CaseIterable { case account, side, amount }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            try AnyKey.refuseUnknown(container, known: CodingKeys.allCases.map(\.rawValue))
            let keyed = try decoder.container(keyedBy: CodingKeys.self)
            account = try keyed.decode(String.self, forKey: .account)
            side = try keyed.decode(String.self, forKey: .side)
            amount = try TransferBody.decodeAmount(keyed, forKey: .amount)
        }
    }

    let idempotencyKey: String
    let kind: String
    let memo: String?
    let postings: [PostingBody]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case idempotencyKey = "idempotency_key"
        case kind, memo, postings
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        try AnyKey.refuseUnknown(container, known: CodingKeys.allCases.map(\.rawValue))
        let keyed = try decoder.container(keyedBy: CodingKeys.self)
        idempotencyKey = try keyed.decode(String.self, forKey: .idempotencyKey)
        kind = try keyed.decode(String.self, forKey: .kind)
        memo = try keyed.decodeIfPresent(String.self, forKey: .memo)
        postings = try keyed.decode([PostingBody].self, forKey: .postings)
    }

    /// Decodes and validates a body into a transfer; every failure is a 400 that says what and where.
    static func transfer(from data: Data) throws -> Transfer {
        let body: TransferBody = try decode(data)
        guard let kind = Transfer.Kind(rawValue: body.kind) else {
            throw ControlError(.badRequest, "invalid_transfer",
                               "kind: \"\(body.kind.prefix(40))\" is not one of \(Transfer.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var postings: [Transfer.Posting] = []
        for (index, posting) in body.postings.enumerated() {
            let side: Transfer.Side
            switch posting.side {
            case "debit": side = .debit
            case "credit": side = .credit
            default: throw ControlError(.badRequest, "invalid_transfer", "postings[\(index)].side must be \"debit\" or \"credit\"")
            }
            let account: Account
            switch Result(catching: { () throws(LedgerError) in try Account(parsing: posting.account) }) {
            case .success(let parsed): account = parsed
            case .failure(let error): throw ControlError(.badRequest, "invalid_transfer", "postings[\(index)].account: \(error)")
            }
            postings.append(Transfer.Posting(side, account, posting.amount))
        }
        switch Result(catching: { () throws(LedgerError) in
            try Transfer(idempotencyKey: body.idempotencyKey, kind: kind, postings: postings, memo: body.memo ?? "")
        }) {
        case .success(let transfer): return transfer
        case .failure(let error): throw ControlError(.badRequest, "invalid_transfer", error.description)
        }
    }

    /// A JSON body of `Body`: a field given twice, an unknown field or a wrong type is a 400 naming it.
    static func decode<Body: Decodable>(_ data: Data, userInfo: [CodingUserInfoKey: any Sendable] = [:]) throws -> Body {
        if let duplicate = DuplicateKeyScanner.firstDuplicate(in: data) {
            throw ControlError(.badRequest, "invalid_json", "\(duplicate.path): the field \"\(duplicate.name.prefix(40))\" appears twice")
        }
        do {
            let decoder = JSONDecoder()
            decoder.userInfo = userInfo
            return try decoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw ControlError(.badRequest, "invalid_json", describe(error))
        }
    }

    /// An amount in minor units: a fraction or a number beyond 64 bits is refused as such (the JSON parser alone
    /// forgets where it was).
    static func decodeAmount<Key: CodingKey>(_ keyed: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Int64 {
        do {
            return try keyed.decode(Int64.self, forKey: key)
        } catch {
            guard (try? keyed.decode(Double.self, forKey: key)) != nil else { throw error }
            throw DecodingError.dataCorrupted(.init(codingPath: keyed.codingPath + [key],
                                                    debugDescription: "must be a whole number of minor units that fits in 64 bits"))
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "body" : text)
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent == "body" ? "" : parent + ".")\(key.stringValue) is required"
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(type == Int64.self ? "an integer (minor units)" : "\(type)")"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(type), found null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "the body is not a valid transfer"
        }
    }
}

/// Any key, to find the ones a body should not have.
struct AnyKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    static func refuseUnknown(_ container: KeyedDecodingContainer<AnyKey>, known: [String]) throws {
        if let unknown = container.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [unknown],
                                                    debugDescription: "unknown field (expected: \(known.joined(separator: ", ")))"))
        }
    }
}
