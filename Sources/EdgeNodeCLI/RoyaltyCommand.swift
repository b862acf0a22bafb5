import ArgumentParser
import Control
import EdgeNode
import Foundation
import Ledger
import Royalty

/// `edgenode royalty`: the royalty service's operations, through the origin's control API.
struct RoyaltyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "royalty",
        abstract: "Close a month's views into royalties, run payouts and import DSP statements through the origin's control API.",
        subcommands: [ViewCloseCommand.self, PayoutRunCommand.self, StatementImportCommand.self])
}

/// Where the control API is and the token to call it with.
struct ControlTarget: ParsableArguments {
    @Option(name: .long, help: "The fleet's nodes.conf: the control API of its origin with a control address is called.")
    var config: String?

    @Option(name: .long, help: "The control API, http://host:port or https://host:port (instead of --config).")
    var url: String?

    @Option(name: .customLong("tls-ca"),
            help: "A PEM CA the control API's certificate must chain to (default: the fleet's tls_ca with --config, else the system's roots).")
    var tlsCA: String?

    @Option(name: .customLong("token-file"), help: "A file holding an admin bearer token.")
    var tokenFile: String

    /// A client for the control API named by `--url` or found in `--config`.
    func client() throws -> ControlClient {
        let token: String
        do {
            token = String(decoding: try AtomicFile.read(tokenFile, limit: 4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ValidationError("--token-file: \(error)")
        }
        switch (url, config) {
        case (let url?, nil):
            do {
                return try ControlClient(url: url, token: token, certificateAuthority: tlsCA)
            } catch {
                throw ValidationError("--url: \(error)")
            }
        case (nil, let config?):
            let fleet: NodesConfig
            do {
                fleet = try NodesConfig.load(path: config)
            } catch {
                throw ValidationError("\(error)")
            }
            guard let url = fleet.controlURL else { throw ValidationError("\(config): no node has a control address") }
            do {
                return try ControlClient(url: url, token: token, certificateAuthority: tlsCA ?? fleet.tlsCA)
            } catch {
                throw ValidationError("\(config): the control API \(url): \(error)")
            }
        default:
            throw ValidationError("give either --config FILE or --url URL")
        }
    }
}

extension ControlClient.Response {
    /// The body of a 2xx answer; otherwise a failure naming the call, the status and the API's message.
    func expectSuccess(_ what: String) throws -> Data {
        guard (200..<300).contains(status) else {
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            let message = (object?["error"] as? [String: Any])?["message"] as? String ?? String(decoding: body.prefix(300), as: UTF8.self)
            throw CommandFailure("\(what): HTTP \(status): \(message)")
        }
        return body
    }
}

/// Runs a command's body: an `ExitCode` it throws stands, any other error is printed and exits 2 (bad arguments) or 1.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        throw exitStatus(reporting: error)
    }
}

/// A failure to report in words (exit 1).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `edgenode royalty payout-run --period YYYY-MM --currency CUR`: runs (or resumes, or reads again) the month's payout
/// run and writes its instruction files.
struct PayoutRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payout-run",
        abstract: "Pay every artist at or above its minimum for a month, once, and write the run's payout files.",
        discussion: """
            The run is planned once per month and currency (POST /v1/payout-runs); running it again answers the first
            run and retries payouts the ledger refused. Files: payouts-YYYY-MM-CUR.xml (SEPA pain.001) and
            payouts-YYYY-MM-CUR.csv (manual payouts) in --out.
            """)

    @OptionGroup var target: ControlTarget

    @Option(name: .long, help: "The month paid, YYYY-MM.")
    var period: String

    @Option(name: .long, help: "The currency paid (ISO 4217).")
    var currency = "EUR"

    @Option(name: .long, help: "Where the payout files are written.")
    var out = "."

    /// `minor` units of the currency `code` as a decimal ("12.34").
    static func amount(_ minor: Int64, _ code: String) -> String {
        (try? Currency(code))?.format(minor) ?? "\(minor) minor units"
    }

    func run() async throws {
        try await reportingFailures {
            let client = try target.client()
            let body = try JSONSerialization.data(withJSONObject: ["period": period, "currency": currency])
            let data = try await client.post("/v1/payout-runs", json: body).expectSuccess("POST /v1/payout-runs")
            let run = try Views.decoder().decode(Views.PayoutRun.self, from: data)
            func amount(_ minor: Int64) -> String { Self.amount(minor, run.currency) }
            print("run \(run.run): \(run.payouts) payouts, gross \(amount(run.gross)) \(run.currency), withheld \(amount(run.withheld)), "
                  + "net \(amount(run.net)); \(run.skipped) artists skipped")
            for refusal in run.refused { print("refused: \(refusal.artist): \(refusal.reason)") }
            for (method, path) in run.files.sorted(by: { $0.key < $1.key }) {
                let file = try await client.get(path).expectSuccess("GET \(path)")
                let name = "\(out)/payouts-\(run.run).\(method == "sepa" ? "xml" : "csv")"
                try AtomicFile.write(file, to: name, mode: 0o600, replace: true)
                print("wrote \(name)")
            }
            if !run.refused.isEmpty { throw ExitCode(1) }
        }
    }
}

/// `edgenode royalty import FILE --dsp NAME --period YYYY-MM`: imports a DSP statement (CSV) and prints its
/// reconciliation.
struct StatementImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a DSP statement (CSV with DDEX DSR column names) and print its reconciliation.",
        discussion: """
            Columns: SalesTransactionId, ResourceISRC and/or ContentId, ArtistId, Territory, UseType, Usages, NetRevenue,
            Currency (README, "DSP statements"). Each line is booked once (importing the same file again changes nothing);
            lines matching no published content or known artist go to suspense/DSP/CUR and are listed. A file whose
            lines disagree with an earlier import of the same statement is refused, naming them (exit 1).
            """)

    @OptionGroup var target: ControlTarget

    @Argument(help: "The statement, CSV.")
    var file: String

    @Option(name: .long, help: "The DSP that sent it (its name in the ledger: external/NAME, suspense/NAME).")
    var dsp: String

    @Option(name: .long, help: "The month it reports, YYYY-MM.")
    var period: String

    func run() async throws {
        try await reportingFailures {
            let client = try target.client()
            let text: String
            do {
                text = String(decoding: try AtomicFile.read(file, limit: 32 << 20), as: UTF8.self)
            } catch {
                throw ValidationError("\(error)")
            }
            let body = try JSONSerialization.data(withJSONObject: ["dsp": dsp, "period": period, "statement": text])
            let data = try await client.post("/v1/statements", json: body).expectSuccess("importing \(file)")
            let report = try Views.decoder().decode(Views.StatementReport.self, from: data)
            print("statement \(report.dsp) \(report.period): \(report.lines) lines; \(report.committed ?? 0) booked now, "
                  + "\(report.alreadyImported ?? 0) booked before; \(report.matched) matched, \(report.suspense) in suspense, "
                  + "\(report.zeroRevenue) without revenue")
            for total in report.totals {
                func amount(_ minor: Int64) -> String { PayoutRunCommand.amount(minor, total.currency) }
                print("  \(total.currency): revenue \(amount(total.revenue)), to artists \(amount(total.toArtists)), "
                      + "in suspense \(amount(total.toSuspense))")
            }
            for line in report.unmatched {
                let names = [line.isrc.map { "ISRC \($0)" }, line.content.map { "content \($0)" }, line.artist.map { "artist \($0)" }]
                print("  unmatched line \(line.line) (\(line.transaction)): \(names.compactMap { $0 }.joined(separator: ", ")), "
                      + "\(line.amount) minor units \(line.currency)")
            }
        }
    }
}

/// `edgenode royalty close --period YYYY-MM --currency CUR`: turns the month's views, as the nodes reported them, into
/// royalties by the configured model (once).
struct ViewCloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close a month's views into royalties (once): the nodes' reports tallied, paid by the view model of nodes.conf.",
        discussion: """
            A session served by several nodes is one view. pro_rata splits the month's subscription pool by views;
            per_view pays the rate card. Reports of a closed month are refused afterwards. Closing again prints the
            first close.
            """)

    @OptionGroup var target: ControlTarget

    @Option(name: .long, help: "The month, YYYY-MM.")
    var period: String

    @Option(name: .long, help: "The currency paid (ISO 4217).")
    var currency = "EUR"

    func run() async throws {
        try await reportingFailures {
            let client = try target.client()
            guard Royalty.Month(period) != nil else { throw ValidationError("--period: \"\(period)\" is not YYYY-MM") }
            let body = try JSONSerialization.data(withJSONObject: ["currency": currency])
            let data = try await client.post("/v1/views/\(period)/close", json: body).expectSuccess("closing the views of \(period)")
            let closed = try Views.decoder().decode(Views.ViewClose.self, from: data)
            func amount(_ minor: Int64) -> String { PayoutRunCommand.amount(minor, closed.currency) }
            print("views \(closed.period) (\(closed.model), \(closed.reports) reports): \(closed.contents.reduce(UInt64(0)) { $0 + $1.views }) views, "
                  + "\(amount(closed.total)) \(closed.currency)")
            for content in closed.contents {
                print("  \(content.content): \(content.views) views, \(amount(content.amount ?? 0))" + (content.unassigned == true ? " (in suspense)" : ""))
            }
            for (key, reason) in closed.refused.sorted(by: { $0.key < $1.key }) { print("refused: \(key): \(reason)") }
            if !closed.refused.isEmpty { throw ExitCode(1) }
        }
    }
}
