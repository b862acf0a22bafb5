import Foundation
import Hummingbird
import HummingbirdCore
import Ledger
import LedgerStore
import Logging
import ServiceLifecycle
import Manifest
import NIOCore
import NIOPosix
import NodeTLS
import Royalty

/// The origin's control API: transfers in, and everything an admin, artist or auditor needs to check them — signed
/// checkpoints, entries with leaf hashes, RFC 9162 inclusion and consistency proofs, balances and account history,
/// exports, artist receipts. JSON over HTTP/1.1 on its own listen address; every route needs a bearer token.
public struct ControlAPI: Sendable {
    /// The largest request body read.
    public static let maximumBodyBytes = 64 * 1024
    /// The most entries or postings one page returns.
    public static let maximumPage = 1000

    public static let routes: [ControlRoute] = ControlRoute.Endpoint.allCases.map(ControlRoute.init)

    let ledger: LedgerModule
    let royalty: RoyaltySettings
    let payouts: PayoutRunner
    let statements: StatementImporter
    let viewAccounting: ViewAccounting
    /// The threads the handlers' blocking work runs on.
    let work: ControlWork

    public init(ledger: LedgerModule, royalty: RoyaltySettings = RoyaltySettings(), work: ControlWork = .shared) {
        self.ledger = ledger
        self.work = work
        self.royalty = royalty
        payouts = PayoutRunner(store: ledger.store, settings: royalty)
        let statements = StatementImporter(store: ledger.store, settings: royalty)
        self.statements = statements
        viewAccounting = ViewAccounting(store: ledger.store, settings: royalty, holders: { try statements.rightsHolders() })
    }

    /// The router: authentication first, then the routes.
    public func router() -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: ControlMetrics(routes: Self.routes))
        router.add(middleware: BearerAuthenticator(store: ledger.store, work: work))
        router.add(middleware: MethodGuard(routes: Self.routes))
        for route in Self.routes {
            router.on(RouterPath(route.path), method: route.method) { request, context in
                let scope = try context.requireScope()
                guard route.admits(scope) else {
                    throw ControlError.forbidden("scope \(scope) may not call \(route.method) \(route.path)")
                }
                return try await self.handle(route, request: request, context: context, scope: scope)
            }
        }
        return router
    }

    private func handle(_ route: ControlRoute, request: Request, context: ControlContext, scope: Scope) async throws -> Response {
        switch route.endpoint {
        case .postTransfer: try await commit(TransferBody.transfer(from: try await Self.jsonBody(request)))
        case .postTip: try await postTip(request)
        case .postSubscriptionPayment: try await commit(SubscriptionPaymentBody.transfer(from: try await Self.jsonBody(request)))
        case .subscriptionPool: try await work.request { try self.subscriptionPool(request) }
        case .postSplitRule: try await postSplitRule(request)
        case .splitRules: try await work.request { try self.splitRules(request) }
        case .putPayoutSettings: try await putPayoutSettings(request, context: context)
        case .payoutSettings: try await work.request { try self.payoutSettings(request, context: context, scope: scope) }
        case .postPayoutRun: try await postPayoutRun(request)
        case .payoutRun: try await work.request { try self.payoutRun(request, context: context) }
        case .payoutFile: try await work.request { try self.payoutFile(request, context: context) }
        case .confirmPayout: try await work.request { try self.settlePayout(request, context: context, confirm: true) }
        case .failPayout: try await work.request { try self.settlePayout(request, context: context, confirm: false) }
        case .postStatement: try await postStatement(request)
        case .statement: try await work.request { try self.statement(request, context: context) }
        case .artistStatement: try await work.request { try self.artistStatement(request, context: context, scope: scope) }
        case .postDeliveryReport: try await postDeliveryReport(request, scope: scope)
        case .views: try await work.request { try self.views(request, context: context) }
        case .closeViews: try await closeViews(request, context: context)
        case .checkpoint: try await work.request { try self.checkpoint(request) }
        case .issueCheckpoint: try await work.request { try self.issueCheckpoint(request) }
        case .entries: try await work.request { try self.entries(request) }
        case .inclusionProof: try await work.request { try self.inclusionProof(request) }
        case .consistencyProof: try await work.request { try self.consistencyProof(request) }
        case .balances: try await work.request { try self.balances(request, scope: scope) }
        case .account: try await work.request { try self.account(request, context: context, scope: scope) }
        case .export: try await work.request { try self.export(request) }
        case .receipt: try await work.request { try self.receipt(request, context: context, scope: scope) }
        case .integrity: try await work.request { try self.integrity(request) }
        }
    }

    // MARK: Transfers

    /// `POST /v1/tips`: a tip split between the artist and the platform (`Tips`).
    private func postTip(_ request: Request) async throws -> Response {
        try await commit(TipBody.transfer(from: try await Self.jsonBody(request), artistShareBasisPoints: royalty.tipArtistShareBasisPoints))
    }

    /// `GET /v1/subscriptions/pool?month=YYYY-MM&currency=CUR`: what the month's subscription payments brought in.
    private func subscriptionPool(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["month", "currency"])
        guard let text = query.string("month"), let month = Month(text) else {
            throw ControlError.badRequest("month is required as YYYY-MM (2000-01 to 9999-12)")
        }
        guard let code = query.string("currency") else { throw ControlError.badRequest("currency is required") }
        let account: Account
        switch Result(catching: { () throws(LedgerError) in try Account(.platformRevenue, Currency(code)) }) {
        case .success(let found): account = found
        case .failure(let error): throw ControlError.badRequest("currency: \(error)")
        }
        guard let pool = try storeCall({ () throws(StoreError) in
            try ledger.store.credited(to: account, keyPrefix: Subscriptions.keyPrefix(month: month))
        }) else {
            throw ControlError(.unprocessableContent, "overflow", "the month's payments sum beyond the 64-bit range")
        }
        return try Self.json(Views.SubscriptionPool(month: month.description, currency: code, pool: pool))
    }

    /// `POST /v1/splits`: stores a content's split from a day on (201); the same rule again is 200, another rule of the
    /// content for the same day is 409.
    private func postSplitRule(_ request: Request) async throws -> Response {
        let rule = try SplitRuleBody.rule(from: try await Self.jsonBody(request))
        let store = ledger.store
        let outcome = try await work.request { try storeCall { () throws(StoreError) in try store.addSplitRule(rule, at: Self.now()) } }
        switch outcome {
        case .created: return try Self.json(Views.SplitRule(rule), status: .created)
        case .existing: return try Self.json(Views.SplitRule(rule))
        case .conflict(let stored):
            throw ControlError(.conflict, "split_conflict",
                               "\(rule.content) already has another split from \(Views.SplitRule(stored).effectiveFrom); add one for another day")
        }
    }

    /// `GET /v1/splits?content=ID`: every version of a content's split (of all contents without `content`).
    private func splitRules(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["content"])
        let content = query.string("content")
        if let content, (try? ContentManifest.validateIdentifier(content, field: "content")) == nil {
            throw ControlError.badRequest("content: \"\(content.prefix(40))\" is not a content id")
        }
        let rules = try storeCall { () throws(StoreError) in try ledger.store.splitRules(content: content) }
        return try Self.json(Views.SplitRules(rules: rules.map(Views.SplitRule.init)))
    }

    /// `PUT /v1/artists/{artist}/payout-settings` (admin): replaces the artist's payout settings.
    private func putPayoutSettings(_ request: Request, context: ControlContext) async throws -> Response {
        let artist = try Self.artistParameter(context)
        let settings = try PayoutSettingsBody.settings(from: try await Self.jsonBody(request), artist: artist,
                                                       at: Int64(Date().timeIntervalSince1970 * 1000))
        let store = ledger.store
        try await work.request { try storeCall { () throws(StoreError) in try store.setPayoutSettings(settings) } }
        return try Self.json(Views.PayoutSettings(settings))
    }

    /// `GET /v1/artists/{artist}/payout-settings` (admin, or the artist itself).
    private func payoutSettings(_ request: Request, context: ControlContext, scope: Scope) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let artist = try Self.artistParameter(context)
        if case .artist(let id) = scope, id != artist { throw ControlError.forbidden("scope \(scope) may only read its own payout settings") }
        guard let settings = try storeCall({ () throws(StoreError) in try ledger.store.payoutSettings(artist: artist) }) else {
            throw ControlError.notFound("\(artist) has no payout settings: it is not paid out until an admin sets them")
        }
        return try Self.json(Views.PayoutSettings(settings))
    }

    /// The `{artist}` path parameter, checked.
    static func artistParameter(_ context: ControlContext) throws -> String {
        let artist = try context.parameters.require("artist")
        guard Scope.isIdentifier(artist) else { throw ControlError.badRequest("artist must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit") }
        return artist
    }

    /// Runs blocking work — SQLite reads and writes, a close or a payout run — on NIO's thread pool, so that no
    /// thread of Swift's cooperative pool (two on a two-core machine, shared with the node's other services) waits on
    /// the disk.

    /// Milliseconds since 1970, now.
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A JSON request body, at most `limit` bytes, of a request without query parameters.
    static func jsonBody(_ request: Request, limit: Int = maximumBodyBytes) async throws -> Data {
        _ = try QueryParameters(request, allowed: [])
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            throw ControlError(.unsupportedMediaType, "unsupported_media_type", "the body must be application/json")
        }
        var request = request
        do {
            return Data(try await request.collectBody(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ControlError(.contentTooLarge, "body_too_large", "the body exceeds \(limit) bytes")
        }
    }

    /// Commits `transfer` exactly once: 201 with the new entry, 200 with the original one for a retry.
    private func commit(_ transfer: Transfer) async throws -> Response {
        let outcome: LedgerBook.Outcome
        do {
            outcome = try await ledger.committer.submit(transfer)
        } catch let error as LedgerError {
            switch error {
            case .idempotencyConflict: throw ControlError(.conflict, "idempotency_conflict", error.description)
            case .negativeBalance: throw ControlError(.unprocessableContent, "insufficient_funds", error.description)
            default: throw ControlError(.unprocessableContent, "refused", error.description)
            }
        } catch let error as StoreError {
            throw Self.unavailable(error)
        }
        switch outcome {
        case .committed(let entry): return try Self.json(Views.TransferResult(status: "committed", entry: Views.Entry(entry)), status: .created)
        case .duplicate(let entry): return try Self.json(Views.TransferResult(status: "duplicate", entry: Views.Entry(entry)))
        }
    }

    // MARK: Log

    private func checkpoint(_ request: Request) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        guard let (size, note) = try storeCall({ () throws(StoreError) in try ledger.store.latestCheckpoint() }) else {
            throw ControlError.notFound("no checkpoint has been issued yet")
        }
        return try Self.json(Views.CheckpointView(size: size, rootHash: ledger.store.root(size: size).hex, checkpoint: note.rendered))
    }

    private func issueCheckpoint(_ request: Request) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let issued = try ledger.issueCheckpoint()
        guard let (size, note) = try storeCall({ () throws(StoreError) in try ledger.store.latestCheckpoint() }) else {
            throw ControlError.notFound("the log is empty and no checkpoint exists")
        }
        return try Self.json(Views.CheckpointView(size: size, rootHash: ledger.store.root(size: size).hex, checkpoint: note.rendered),
                             status: issued ? .created : .ok)
    }

    private func entries(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["start", "end"])
        let size = Int64(ledger.store.size)
        let start = try query.logPosition("start", size: size)
        let end = try query.logPosition("end", size: size, default: min(size, start + Int64(Self.maximumPage)))
        guard end >= start else { throw ControlError.badRequest("end (\(end)) must not be before start (\(start))") }
        guard end - start <= Int64(Self.maximumPage) else {
            throw ControlError.badRequest("at most \(Self.maximumPage) entries per request (asked \(end - start))")
        }
        let entries = try storeCall { () throws(StoreError) in try ledger.store.entries(from: Int(start), to: Int(end)) }
        return try Self.json(Views.Entries(start: Int(start), end: Int(end), treeSize: Int(size), entries: entries.map(Views.Entry.init)))
    }

    private func inclusionProof(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["index", "leaf_hash", "tree_size"])
        let size = Int64(ledger.store.size)
        let treeSize = try query.logPosition("tree_size", size: size, default: size)
        guard treeSize > 0 else { throw ControlError.notFound("a tree of size 0 has no entries to prove") }
        let index: Int64
        switch (try query.optionalInteger("index", in: 0...Int64.max), query.string("leaf_hash")) {
        case (let given?, nil):
            guard given < treeSize else { throw ControlError.notFound("index \(given) is beyond the tree of size \(treeSize)") }
            index = given
        case (nil, let hex?):
            guard let hash = MerkleHash(hex: hex) else { throw ControlError.badRequest("leaf_hash must be 64 hex digits") }
            guard let found = ledger.store.index(ofLeafHash: hash) else {
                throw ControlError.notFound("no entry has leaf hash \(hex)")
            }
            guard found < treeSize else { throw ControlError.notFound("the entry with that leaf hash is at index \(found), beyond tree_size \(treeSize)") }
            index = Int64(found)
        default:
            throw ControlError.badRequest("give exactly one of index or leaf_hash")
        }
        let proof = try storeCall { () throws(StoreError) in try ledger.store.inclusionProof(index: Int(index), size: Int(treeSize)) }
        let leaf = try storeCall { () throws(StoreError) in try ledger.store.entries(from: Int(index), to: Int(index) + 1) }
        return try Self.json(Views.InclusionProof(index: Int(index), treeSize: Int(treeSize), leafHash: EntryEncoding.leafHash(leaf[0]).hex,
                                                  proof: proof.map(\.hex)))
    }

    private func consistencyProof(_ request: Request) throws -> Response {
        let query = try QueryParameters(request, allowed: ["first", "second"])
        let size = Int64(ledger.store.size)
        let second = try query.logPosition("second", size: size, default: size)
        let first = try query.logPosition("first", size: size)
        guard first <= second else { throw ControlError.badRequest("first (\(first)) must not be after second (\(second))") }
        let proof = try storeCall { () throws(StoreError) in try ledger.store.consistencyProof(from: Int(first), to: Int(second)) }
        return try Self.json(Views.ConsistencyProof(first: Int(first), second: Int(second), proof: proof.map(\.hex)))
    }

    private func integrity(_ request: Request) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let report = try storeCall { () throws(StoreError) in try ledger.store.verifyIntegrity() }
        return try Self.json(Views.Integrity(entries: report.entries, intact: report.isIntact, problems: report.problems))
    }

    // MARK: Helpers

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try Views.encoder().encode(value)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func unavailable(_ error: StoreError) -> ControlError {
        switch error {
        case .integrity: ControlError(.serviceUnavailable, "integrity_failure", error.description)
        case .database: ControlError(.serviceUnavailable, "storage_failure", error.description)
        case .invalidRange(let reason): ControlError.badRequest(reason)
        }
    }
}

/// Runs a store call, turning its errors into API errors.
func storeCall<T>(_ body: () throws(StoreError) -> T) throws -> T {
    switch Result(catching: body) {
    case .success(let value): return value
    case .failure(let error): throw ControlAPI.unavailable(error)
    }
}

extension ControlAPI {
    /// The API's HTTP server on `host:port` as a service; `onListening` gets the bound port (useful with port 0). A
    /// connection silent for `idleTimeout` — idle between requests, or stalled in the middle of a body or of a TLS
    /// handshake — is closed. With `tls` the API speaks only HTTPS, each new connection with the certificate in force.
    public func server(host: String, port: Int, tls: ServerTLS? = nil, logger: Logger, idleTimeout: Duration = .seconds(30),
                       onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some Service {
        let http = HTTP1Channel.Configuration(idleTimeout: TimeAmount(idleTimeout))
        let builder: HTTPServerBuilder = if let tls {
            HTTPServerBuilder { responder in ReloadableTLSChannel(base: HTTP1Channel(responder: responder, configuration: http), tls: tls) }
        } else {
            .http1(configuration: http)
        }
        return Application(router: router(), server: builder, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                           onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
