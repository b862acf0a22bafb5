import Foundation
import Hummingbird
import Ledger
import LedgerStore

/// Balances, account history and artist receipts: an artist token sees only the artist's own accounts.
extension ControlAPI {
    func balances(_ request: Request, scope: Scope) throws -> Response {
        let query = try QueryParameters(request, allowed: ["prefix", "after", "limit"])
        let limit = Int(try query.integer("limit", in: 1...Int64(Self.maximumPage), default: 100))
        var prefix = query.string("prefix") ?? ""
        if case .artist(let id) = scope {
            let own = "artist/\(id)/"
            if prefix.isEmpty { prefix = own }
            guard prefix.hasPrefix(own) else { throw ControlError.forbidden("scope \(scope) may only list accounts under \(own)") }
        }
        guard prefix.unicodeScalars.count <= 128 else { throw ControlError.badRequest("prefix is longer than 128 characters") }
        let rows = try storeCall { () throws(StoreError) in
            try ledger.store.balances(prefix: prefix, after: query.string("after"), limit: limit + 1)
        }
        let page = rows.prefix(limit).compactMap { row -> Views.Balance? in
            guard let account = try? Account(parsing: row.account) else { return nil }
            return Views.Balance(account: row.account, balance: row.balance, currency: account.currency.code, exponent: account.currency.exponent)
        }
        return try Self.json(Views.Balances(balances: page, next: rows.count > limit ? page.last?.account : nil))
    }

    func account(_ request: Request, context: ControlContext, scope: Scope) throws -> Response {
        let query = try QueryParameters(request, allowed: ["after", "limit"])
        let text = "\(try context.parameters.require("kind"))/\(try context.parameters.require("detail"))/\(try context.parameters.require("currency"))"
        let account: Account
        switch Result(catching: { () throws(LedgerError) in try Account(parsing: text) }) {
        case .success(let parsed): account = parsed
        // Well-formed path segments that name no possible account: there is no such resource.
        case .failure(let error): throw ControlError.notFound("no such account: \(error)")
        }
        if case .artist(let id) = scope, account.artist != id {
            throw ControlError.forbidden("scope \(scope) may only read its own accounts (artist/\(id)/…)")
        }
        let limit = Int(try query.integer("limit", in: 1...Int64(Self.maximumPage), default: 100))
        let after = try query.optionalInteger("after", in: -1...Int64.max)
        let (balance, items) = try storeCall { () throws(StoreError) in
            (try ledger.store.balance(account), try ledger.store.history(of: account, after: after, limit: limit + 1))
        }
        let page = items.prefix(limit).map {
            Views.HistoryItem(entry: $0.entry, committedAt: $0.committedAt, kind: $0.kind, side: $0.side == .credit ? "credit" : "debit", amount: $0.amount)
        }
        return try Self.json(Views.AccountView(account: account.description, balance: balance, currency: account.currency.code,
                                               exponent: account.currency.exponent, history: Array(page),
                                               next: items.count > limit ? page.last?.entry : nil))
    }

    func receipt(_ request: Request, context: ControlContext, scope: Scope) throws -> Response {
        let query = try QueryParameters(request, allowed: ["from", "to"])
        let artist = try context.parameters.require("artist")
        guard Scope.isIdentifier(artist) else { throw ControlError.badRequest("artist must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit") }
        if case .artist(let id) = scope, id != artist {
            throw ControlError.forbidden("scope \(scope) may only fetch its own receipts")
        }
        let from = try query.integer("from", in: 0...Int64.max, default: 0)
        let to = try query.integer("to", in: from...Int64.max, default: Int64.max)
        let receipt: Receipt
        do {
            receipt = try ledger.store.receipt(artist: artist, from: from, to: to)
        } catch let error as StoreError {
            if case .invalidRange(let reason) = error { throw ControlError.notFound(reason) }
            throw Self.unavailable(error)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: .init(bytes: try encoder.encode(receipt))))
    }
}
