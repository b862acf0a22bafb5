import Foundation
import Hummingbird
import Ledger
import LedgerStore
import Royalty

/// The network's views: nodes' delivery reports in, a month's tally read, and the month's close into royalties.
extension ControlAPI {
    /// The largest report body: four million sessions of ~40 bytes, JSON-escaped.
    public static let maximumReportBytes = 256 << 20

    /// `POST /v1/reports/deliveries` (a node for itself, or an admin): 201 for a new report, 200 for the same again.
    func postDeliveryReport(_ request: Request, scope: Scope) async throws -> Response {
        let data = try await Self.jsonBody(request, limit: Self.maximumReportBytes)
        let accounting = viewAccounting
        // Decoding, checking and storing a report at the size limit takes seconds: off the cooperative threads.
        let (node, created, report) = try await work.request { () throws -> (String, Bool, DeliveryReport.Summary) in
            let submission: ViewAccounting.Submission
            do {
                submission = try Views.decoder().decode(ViewAccounting.Submission.self, from: data)
            } catch {
                throw ControlError(.badRequest, "invalid_report", "the body must be {\"report\": TEXT, \"signature\": NOTE}")
            }
            let node: String
            switch scope {
            case .node(let name): node = name
            default:
                do {
                    node = try DeliveryReport.Summary(text: submission.report).node
                } catch {
                    throw ControlError(.badRequest, "invalid_report", "the report does not parse: \(error)")
                }
            }
            // A node reports a period once it ended: a claim on hours still to come (whose honest report would then
            // be a conflict) is refused, with five minutes for clocks.
            let now = Self.now()
            let (created, report) = try accounting.accept(submission, body: data, node: node, at: now,
                                                          latestPeriodEnd: now / 1000 + Self.clockSkewSeconds)
            return (node, created, report)
        }
        if created {
            ledger.logger.info("delivery report", metadata: ["node": "\(node)", "period": "\(report.periodLabel)", "contents": "\(report.contents.count)"])
        }
        let view = Views.DeliveryReceipt(node: node, period: report.periodLabel, status: created ? "accepted" : "duplicate",
                                         contents: report.contents.count, sessions: report.sessions)
        return try Self.json(view, status: created ? .created : .ok)
    }

    /// `GET /v1/views/{period}`: the month's tally so far, and its close when made.
    func views(_ request: Request, context: ControlContext) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let month = try Self.monthParameter(context)
        let reports = try viewAccounting.reports(month)
        let tally = try ViewAccounting.overflowChecked { try ViewTally(reports: reports, thresholdMilliseconds: royalty.viewThresholdMilliseconds) }
        let closed = try storeCall { () throws(StoreError) in try ledger.store.document(kind: ViewAccounting.closeKind, id: month.description) }
            .flatMap { try? Views.decoder().decode(ViewAccounting.Closed.self, from: $0.body) }
        let contents = tally.views.keys.sorted().map { Views.ContentViews(content: $0, views: tally.views[$0]!, bytes: tally.bytes[$0]) }
        return try Self.json(Views.MonthViews(period: month.description, reports: tally.reports, sharedSessions: tally.sharedSessions,
                                              contents: contents, close: try closed.map { try Self.view($0, refused: [:]) }))
    }

    /// Seconds a node's or an operator's clock may be ahead of the origin's.
    static let clockSkewSeconds: Int64 = 300

    /// `POST /v1/views/{period}/close` `{"currency": "EUR"}`: 201 when closed now, 200 when closed before.
    func closeViews(_ request: Request, context: ControlContext) async throws -> Response {
        let month = try Self.monthParameter(context)
        try Self.refuseUnstarted(month)
        let data = try await Self.jsonBody(request)
        let currency: Currency
        do {
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            guard let object, Set(object.keys) == ["currency"], let code = object["currency"] as? String else {
                throw ControlError.badRequest("the body must be {\"currency\": CODE}")
            }
            currency = try Currency(code)
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError.badRequest("currency: \(error)")
        }
        let accounting = viewAccounting
        let (closed, created, refused) = try await work.job { try accounting.close(month, currency: currency, at: Self.now()) }
        ledger.logger.info("views closed", metadata: ["period": "\(closed.period)", "model": "\(closed.model)", "reports": "\(closed.reports)",
                                                     "refused": "\(refused.count)"])
        return try Self.json(try Self.view(closed, refused: refused), status: created ? .created : .ok)
    }

    /// A month that has not started cannot be closed or paid out (a typo such as 9999-12 would be irreversible).
    static func refuseUnstarted(_ month: Month) throws {
        guard month.startSeconds <= now() / 1000 + clockSkewSeconds else {
            throw ControlError(.conflict, "period_not_started", "\(month) has not started")
        }
    }

    /// The `{period}` path parameter, checked.
    static func monthParameter(_ context: ControlContext) throws -> Month {
        let text = try context.parameters.require("period")
        guard let month = Month(text) else { throw ControlError.badRequest("period \"\(text.prefix(20))\" is not YYYY-MM") }
        return month
    }

    static func view(_ closed: ViewAccounting.Closed, refused: [String: String]) throws -> Views.ViewClose {
        guard let total = closed.amounts.values.checkedSum else {
            throw ControlError(.unprocessableContent, "overflow", "the close's total leaves the 64-bit range")
        }
        let contents = closed.views.keys.sorted().map {
            Views.ContentViews(content: $0, views: closed.views[$0]!, amount: closed.amounts[$0] ?? 0, unassigned: closed.unassigned[$0] != nil)
        }
        return Views.ViewClose(period: closed.period, currency: closed.currency, model: closed.model, reports: closed.reports, total: total,
                               contents: contents, refused: refused)
    }
}
