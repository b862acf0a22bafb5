import Foundation
import Hummingbird
import Royalty

/// DSP statements: `POST /v1/statements` imports one (idempotent per line), `GET /v1/statements/{dsp}/{period}` reads
/// its reconciliation report.
extension ControlAPI {
    /// `POST /v1/statements`: 201 when the file added lines, 200 when every line had been imported before; 409 naming
    /// the lines that disagree with an earlier import (nothing imported).
    func postStatement(_ request: Request) async throws -> Response {
        let (dsp, period, statement) = try StatementBody.parse(try await Self.jsonBody(request, limit: StatementBody.maximumBytes))
        let statements = self.statements
        let (outcome, read) = try await work.request {
            (try statements.importStatement(statement, dsp: dsp, period: period, at: Self.now()), try statements.report(dsp: dsp, period: period))
        }
        guard var report = read else {
            throw ControlError(.serviceUnavailable, "storage_failure", "the import of \(dsp) \(period) was not kept")
        }
        report.committed = outcome.committed
        report.alreadyImported = outcome.alreadyImported
        ledger.logger.info("statement imported", metadata: ["dsp": "\(dsp)", "period": "\(period)", "lines": "\(statement.lines.count)",
                                                           "committed": "\(outcome.committed)", "suspense": "\(report.suspense)"])
        if let first = outcome.refused.first {
            throw ControlError(.unprocessableContent, "refused", "\(outcome.refused.count) lines were refused by the ledger: line \(first.line): \(first.reason)")
        }
        return try Self.json(report, status: outcome.committed > 0 || outcome.created ? .created : .ok)
    }

    /// `GET /v1/statements/{dsp}/{period}`.
    func statement(_ request: Request, context: ControlContext) throws -> Response {
        _ = try QueryParameters(request, allowed: [])
        let dsp = try context.parameters.require("dsp")
        guard StatementImport.isDSPName(dsp) else { throw ControlError.badRequest("dsp must be 1-\(StatementImport.maximumDSPBytes) of a-z 0-9 . _ -") }
        let period = try Self.monthParameter(context)
        guard let report = try statements.report(dsp: dsp, period: period) else {
            throw ControlError.notFound("no statement of \(dsp) for \(period) was imported")
        }
        return try Self.json(report)
    }
}
