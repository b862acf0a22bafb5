import Foundation
import Hummingbird
import Ledger
import NIOCore
import Royalty

/// Payout runs: `POST /v1/payout-runs` plans and pays a month in one currency (once: running it again answers the
/// first run and retries payouts the ledger refused), reads of a run and its files, and settling each payout.
extension ControlAPI {
    /// `POST /v1/payout-runs`: 201 when this request planned the run, 200 when it had been planned before.
    func postPayoutRun(_ request: Request) async throws -> Response {
        let run = try PayoutRunBody.run(from: try await Self.jsonBody(request))
        try Self.refuseUnstarted(run.month)
        let payouts = self.payouts
        let outcome = try await work.job { try payouts.run(run, at: Self.now()) }
        ledger.logger.info("payout run", metadata: ["run": "\(run)", "planned": "\(outcome.created ? "now" : "before")",
                                                   "payouts": "\(outcome.plan.payouts.count)", "refused": "\(outcome.refused.count)"])
        return try Self.json(try summary(run, outcome.plan, plannedAt: outcome.plannedAt, refused: outcome.refused),
                             status: outcome.created ? .created : .ok)
    }

    /// `GET /v1/payout-runs/{run}?after=ARTIST&limit=N`: the run's summary and a page of its artists, each with its
    /// payout's status read from the ledger.
    func payoutRun(_ request: Request, context: ControlContext) throws -> Response {
        let query = try QueryParameters(request, allowed: ["after", "limit"])
        let limit = Int(try query.integer("limit", in: 1...Int64(Self.maximumPage), default: 100))
        let run = try Self.runParameter(context)
        guard let (plan, plannedAt) = try payouts.existing(run) else { throw ControlError.notFound("no payout run \(run)") }
        if let after = query.string("after"), !Scope.isIdentifier(after) {
            throw ControlError.badRequest("after must be an artist id (a page's next)")
        }
        let after = query.string("after") ?? ""
        var items = plan.payouts.filter { $0.artist > after }.prefix(limit + 1).map {
            Views.PayoutItem(artist: $0.artist, status: "", gross: $0.gross, withheld: $0.withheld, net: $0.net, taxCountry: $0.taxCountry,
                             method: $0.method)
        }
        items += plan.skipped.filter { $0.artist > after }.prefix(limit + 1).map {
            Views.PayoutItem(artist: $0.artist, status: "skipped", reason: $0.reason, message: $0.message)
        }
        items.sort { $0.artist < $1.artist }
        let page = Array(items.prefix(limit))
        let paid = Set(page.filter { $0.status.isEmpty }.map(\.artist))
        let statuses = try payouts.statuses(run, payouts: plan.payouts.filter { paid.contains($0.artist) }.compactMap(PayoutPlanDocument.payout))
        let filled = page.map { item -> Views.PayoutItem in
            guard let status = statuses[item.artist] else { return item }
            var item = item
            item.status = status.status.rawValue
            item.entry = status.entry
            return item
        }
        return try Self.json(Views.PayoutRunPage(summary: try summary(run, plan, plannedAt: plannedAt, refused: []), items: filled,
                                                 next: items.count > limit ? page.last?.artist : nil))
    }

    /// `GET /v1/payout-runs/{run}/files/{method}`: the instruction file of the run's payouts by `sepa` (pain.001 XML)
    /// or `csv`.
    func payoutFile(_ request: Request, context: ControlContext) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let run = try Self.runParameter(context)
        let method = try context.parameters.require("method")
        let file = try payouts.file(run, method: method)
        let name = "payouts-\(run).\(method == SEPAPayoutFile.method ? "xml" : "csv")"
        return Response(status: .ok, headers: [.contentType: file.mediaType, .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"\(name)\""],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: file.text)))
    }

    /// `POST /v1/payout-runs/{run}/payouts/{artist}/confirm` and `…/fail`: 201 when this request settled it, 200 when
    /// it was settled the same way before, 409 when it was settled the other way or is not in flight.
    func settlePayout(_ request: Request, context: ControlContext, confirm: Bool) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let run = try Self.runParameter(context)
        let artist = try Self.artistParameter(context)
        let (created, payout, entry) = try payouts.settle(run, artist: artist, confirm: confirm, at: Self.now())
        let item = Views.PayoutItem(artist: artist, status: confirm ? "confirmed" : "failed", gross: payout.gross, withheld: payout.withheld,
                                    net: payout.net, taxCountry: payout.taxCountry, method: payout.method.name, entry: entry.index)
        return try Self.json(item, status: created ? .created : .ok)
    }

    /// The `{run}` path parameter, checked.
    static func runParameter(_ context: ControlContext) throws -> PayoutRun.ID {
        let text = try context.parameters.require("run")
        guard let run = PayoutRun.ID(text) else { throw ControlError.badRequest("run \"\(text.prefix(20))\" is not YYYY-MM-CUR (2026-11-EUR)") }
        return run
    }

    private func summary(_ run: PayoutRun.ID, _ plan: PayoutPlanDocument, plannedAt: Int64, refused: [(artist: String, reason: String)]) throws -> Views.PayoutRun {
        guard let gross = plan.payouts.map(\.gross).checkedSum, let withheld = plan.payouts.map(\.withheld).checkedSum,
              let net = plan.payouts.map(\.net).checkedSum else {
            throw ControlError(.unprocessableContent, "overflow", "run \(run): its totals leave the 64-bit range")
        }
        var files: [String: String] = [:]
        for method in Set(plan.payouts.map(\.method)) { files[method] = "/v1/payout-runs/\(run)/files/\(method)" }
        return Views.PayoutRun(run: run.description, period: run.month.description, currency: run.currency.code, plannedAt: plannedAt,
                               payouts: plan.payouts.count, skipped: plan.skipped.count, gross: gross, withheld: withheld, net: net, refused: refused.map { Views.Refusal(artist: $0.artist, reason: $0.reason) }, files: files)
    }
}
