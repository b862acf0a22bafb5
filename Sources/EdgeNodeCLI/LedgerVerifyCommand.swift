import ArgumentParser
import Control
import EdgeNode
import Foundation
import Ledger
import Manifest

extension LedgerCommand {
    /// `edgenode ledger verify`: audits the log from an export file or a live node, and checks that a checkpoint seen
    /// earlier is still a prefix (history was not rewritten).
    struct VerifyLog: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Audit the ledger's log: an export (JSON/CSV) or a live node, with a consistency check from an earlier checkpoint.",
            discussion: """
                --export FILE rebuilds the root from the exported leaves and compares it with the signed checkpoint (in a JSON
                export, or --checkpoint FILE). --url URL --token-file FILE asks a live node: its latest checkpoint, a
                consistency proof from --since, and (with an admin token) the full export, rebuilt the same way.
                --save FILE keeps the verified checkpoint for the next run's --since.
                """)

        @Option(name: .long, help: "The origin's public key (PATH.pub).")
        var pubkey: String

        @Option(name: .long, help: "An export file (.json or .csv) from GET /v1/export.")
        var export: String?

        @Option(name: .long, help: "The signed checkpoint of the export's end (needed for CSV).")
        var checkpoint: String?

        @Option(name: .long, help: "A live control API, http://host:port or https://host:port.")
        var url: String?

        @Option(name: .customLong("tls-ca"), help: "A PEM CA an https --url's certificate must chain to (default: the system's roots).")
        var tlsCA: String?

        @Option(name: .customLong("token-file"), help: "A file holding a bearer token for --url.")
        var tokenFile: String?

        @Option(name: .long, help: "A checkpoint verified earlier: the log must still extend it.")
        var since: String?

        @Option(name: .long, help: "Write the verified checkpoint here (for the next --since).")
        var save: String?

        @Option(name: .long, help: "The log's name in the checkpoint.")
        var log = LedgerCommand.defaultLog

        func run() async throws {
            do {
                let verifier = try KeyStore.loadVerifier(path: pubkey)
                let earlier = try since.map { try LogAudit.checkpoint(try Self.read($0, limit: 1 << 16), verifier: verifier, log: log) }
                let verified: String
                switch (export, url) {
                case (let export?, nil):
                    verified = try auditExport(path: export, verifier: verifier, earlier: earlier)
                case (nil, let url?):
                    verified = try await auditLive(url: url, verifier: verifier, earlier: earlier)
                default:
                    throw ValidationError("give either --export FILE or --url URL")
                }
                if let save { try AtomicFile.write(Data(verified.utf8), to: save, mode: 0o644, replace: true) }
            } catch {
                throw exitStatus(reporting: error)
            }
        }

        private func auditExport(path: String, verifier: NoteVerifier, earlier: Checkpoint?) throws -> String {
            let data = try AtomicFile.read(path, limit: 4 << 30)
            let parsed = path.hasSuffix(".csv") ? try LedgerExport(csv: String(decoding: data, as: UTF8.self)) : try LedgerExport(json: data)
            guard let note = try checkpoint.map({ try Self.read($0, limit: 1 << 16) }) ?? parsed.checkpoint else {
                throw ValidationError("the export carries no checkpoint of its end: give --checkpoint FILE")
            }
            let signed = try LogAudit.checkpoint(note, verifier: verifier, log: log)
            let report = try LogAudit.audit(parsed, checkpoint: signed, earlier: earlier)
            print("ok: \(report.size) entries rebuild the signed root \(report.root.hex)" + Self.describe(earlier) + Self.describe(volume: report.volume))
            return note
        }

        private func auditLive(url: String, verifier: NoteVerifier, earlier: Checkpoint?) async throws -> String {
            guard let tokenFile else { throw ValidationError("--url needs --token-file") }
            let token = try Self.read(tokenFile, limit: 4096).trimmingCharacters(in: .whitespacesAndNewlines)
            let client = try ControlClient(url: url, token: token, certificateAuthority: tlsCA)
            let view = try Views.decoder().decode(Views.CheckpointView.self, from: try Self.expect(await client.get("/v1/checkpoint"), "/v1/checkpoint"))
            let current = try LogAudit.checkpoint(view.checkpoint, verifier: verifier, log: log)
            if let earlier {
                let response = try await client.get("/v1/proofs/consistency?first=\(earlier.size)&second=\(current.size)")
                let proof = try Views.decoder().decode(Views.ConsistencyProof.self, from: try Self.expect(response, "the consistency proof"))
                try LogAudit.consistency(from: earlier, to: current, proof: proof.proof)
            }
            let export = try await client.get("/v1/export?end=\(current.size)")
            if export.status == 403 {
                print("ok: checkpoint of \(current.size) entries signed by the origin" + Self.describe(earlier)
                      + " (this token cannot export the entries, so they were not rebuilt)")
                return view.checkpoint
            }
            let report = try LogAudit.audit(try LedgerExport(json: try Self.expect(export, "the export")), checkpoint: current, earlier: earlier)
            print("ok: \(report.size) entries rebuild the signed root \(report.root.hex)" + Self.describe(earlier) + Self.describe(volume: report.volume))
            return view.checkpoint
        }

        private static func describe(_ earlier: Checkpoint?) -> String {
            earlier.map { "; consistent with the earlier checkpoint of \($0.size) entries" } ?? ""
        }

        private static func describe(volume: [String: Int64]) -> String {
            volume.isEmpty ? "" : "; volume " + volume.keys.sorted().map { "\($0) \(volume[$0]!)" }.joined(separator: ", ") + " (minor units)"
        }

        private static func expect(_ response: ControlClient.Response, _ what: String) throws -> Data {
            guard response.status == 200 else {
                throw LogAudit.Failure("\(what): HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            return response.body
        }

        private static func read(_ path: String, limit: Int) throws -> String {
            String(decoding: try AtomicFile.read(path, limit: limit), as: UTF8.self)
        }
    }
}
