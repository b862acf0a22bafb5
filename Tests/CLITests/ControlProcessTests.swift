import Control
import Foundation
import GRDB
import Ledger
@testable import LedgerStore
import Manifest
import Testing
import TestSupport

/// The control module inside a real `edgenode serve` origin: tokens from the CLI, the API over loopback, `ledger
/// verify` against the live node, and kill -9 while clients append.
@Suite(.serialized) struct ControlProcessTests {
    /// A one-origin fleet with the control module, its key and an admin token.
    struct Origin {
        let scratch: TemporaryDirectory
        let host = LoopbackAddress.next()
        /// The CA of the origin's certificate when it has one (its control API then speaks only HTTPS).
        let certificates: TestCertificates?
        var config: String { scratch.path + "/nodes.conf" }
        var pubkey: String { scratch.path + "/origin.pub" }
        var tokenFile: String { scratch.path + "/admin.token" }
        var url: String { "\(certificates == nil ? "http" : "https")://\(host):9090" }

        /// A `[royalty]` table for payout runs: the shipped withholding table and a SEPA debtor account.
        static var payoutSettings: String {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
            return """
                [royalty]
                tax_rates = "\(root)/royalty/tax-rates.csv"
                sepa_debtor_name = "Artist First Streaming B.V."
                sepa_debtor_iban = "NL91ABNA0417164300"
                """
        }

        /// `extra`: more of `nodes.conf` after the origin's table (`[royalty]`). `tls`: the origin gets a certificate
        /// (serial 1) from a CA made for the test, and `[fleet] tls_ca` names the file `fleet-ca.pem`, a copy of that CA.
        init(extra: String = "", tls: Bool = false) throws {
            scratch = try TemporaryDirectory("control-process")
            try FileManager.default.createDirectory(atPath: scratch.path + "/content", withIntermediateDirectories: true)
            #expect(try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"]).status == 0)
            var fleet = ""
            var certificate = ""
            if tls {
                let certificates = try TestCertificates(directory: scratch.path)
                let leaf = try certificates.leaf("origin-1", ip: host, serial: 1)
                try FileManager.default.copyItem(atPath: certificates.ca, toPath: scratch.path + "/fleet-ca.pem")
                fleet = "[fleet]\ntls_ca = \"fleet-ca.pem\"\n\n"
                certificate = "tls_cert = \"\(leaf.certificate)\"\ntls_key = \"\(leaf.key)\"\n"
                self.certificates = certificates
            } else {
                certificates = nil
            }
            try """
                \(fleet)[[node]]
                name = "origin-1"
                role = "origin"
                region = "test"
                latitude = 0
                longitude = 0
                http = "\(host):8080"
                content = "content"
                control = "\(host):9090"
                ledger_db = "ledger/ledger.sqlite"
                signing_key = "origin.key"
                checkpoint_interval = 1
                ledger_witness = "witness.jsonl"
                \(certificate)\(extra)
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let token = try EdgeNodeBinary.run(["token", "create", "--config", config, "--node", "origin-1", "--scope", "admin",
                                                "--label", "tests", "--out", tokenFile])
            #expect(token.status == 0, "\(token.stderr)")
        }

        /// Adds an edge, `edge-1` at `host:8080`, that counts views and reports them to this origin: its report key
        /// (`edge-1.key`), a `node:edge-1` token, its cache directory and its `[[node]]` table.
        func addReportingEdge(host edgeHost: String) throws {
            #expect(try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/edge-1"]).status == 0)
            let token = try EdgeNodeBinary.run(["token", "create", "--config", config, "--node", "origin-1", "--scope", "node:edge-1",
                                                "--out", scratch.path + "/edge-1.token"])
            #expect(token.status == 0, "\(token.stderr)")
            try FileManager.default.createDirectory(atPath: scratch.path + "/cache", withIntermediateDirectories: true)
            try (try String(contentsOfFile: config, encoding: .utf8) + """

                [[node]]
                name = "edge-1"
                role = "edge"
                region = "test"
                latitude = 0
                longitude = 0
                http = "\(edgeHost):8080"
                content = "cache"
                parents = ["origin-1"]
                origin_key = "origin.pub"
                cache_size = "64MiB"
                report_key = "edge-1"
                report_token = "edge-1.token"
                """).write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// A client of the control API, over HTTPS trusting the test's CA when the origin has a certificate.
        func client(token: String?) throws -> ControlClient {
            try ControlClient(url: url, token: token, certificateAuthority: certificates?.ca)
        }

        func token() throws -> String { try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }

        /// Starts the origin and waits for the control API to answer; `lowPriority` runs it at nice 19, so that on a
        /// loaded machine the test watching it gets the CPU first.
        func start(lowPriority: Bool = false) async throws -> ServerProcess {
            let arguments = ["serve", "--config", config, "--node", "origin-1", "--threads", "1"]
            // On a machine busy with every other suite (at nice 19 all the more), starting takes what CPU is left: a
            // minute is allowed; the loop returns as soon as the control API answers.
            let server = lowPriority
                ? try ServerProcess("/usr/bin/nice", ["-n", "19", EdgeNodeBinary.path] + arguments, host: host, port: 8080, readyTimeout: 60)
                : try ServerProcess(EdgeNodeBinary.path, arguments, host: host, port: 8080)
            let client = try client(token: nil)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if (try? await client.get("/v1/checkpoint"))?.status == 401 { return server }
                try await Task.sleep(for: .milliseconds(25))
            }
            throw ServerProcessError.notReady(log: server.log)
        }
    }

    @Test func tokensAndLiveVerification() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try Origin()
            defer { origin.scratch.remove() }
            var info = stat()
            #expect(stat(origin.tokenFile, &info) == 0 && info.st_mode & 0o777 == 0o600)
            let server = try await origin.start()
            #expect(stat(origin.scratch.path + "/ledger/ledger.sqlite", &info) == 0 && info.st_mode & 0o777 == 0o600, "the ledger is 0600")
            let admin = ControlClient(host: origin.host, port: 9090, token: try origin.token())
            for index in 0..<25 {
                #expect(try await admin.post("/v1/transfers", json: Self.transfer(key: "t\(index)", amount: Int64(index + 1))).status == 201)
            }
            // An artist token from the CLI reads its own balance and nothing else.
            let artistToken = try EdgeNodeBinary.run(["token", "create", "--config", origin.config, "--node", "origin-1", "--scope", "artist:luna"])
            let artist = ControlClient(host: origin.host, port: 9090, token: artistToken.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(try await artist.get("/v1/accounts/artist/luna/EUR").status == 200)
            #expect(try await artist.get("/v1/entries?start=0").status == 403)
            // The periodic checkpoint (every second) covers the 25 entries; verify live and keep it.
            let saved = origin.scratch.path + "/seen.checkpoint"
            var verified = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile,
                                                   "--pubkey", origin.pubkey, "--save", saved])
            for _ in 0..<40 where !verified.stdout.contains("ok: 25 entries") {
                verified = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile,
                                                   "--pubkey", origin.pubkey, "--save", saved])
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(verified.status == 0 && verified.stdout.contains("ok: 25 entries rebuild the signed root"), "\(verified.stdout) \(verified.stderr)")
            _ = try await admin.post("/v1/transfers", json: Self.transfer(key: "t-late", amount: 5, kind: "tip", source: "fan"))
            // Signed now (201), or already by the periodic checkpoint (200): either way it must cover the new entry.
            let signed = try Views.decoder().decode(Views.CheckpointView.self, from: try await admin.post("/v1/checkpoints", json: nil).body)
            #expect(signed.size == 26)
            let since = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile, "--pubkey", origin.pubkey,
                                                "--since", saved])
            #expect(since.status == 0 && since.stdout.contains("ok: 26 entries") && since.stdout.contains("consistent with the earlier checkpoint of 25"),
                    "\(since.stdout) \(since.stderr)")
            // An export file verifies offline too (CSV with the checkpoint given separately).
            let export = try await admin.get("/v1/export?format=csv")
            try (export.body as Data).write(to: URL(fileURLWithPath: origin.scratch.path + "/export.csv"))
            let checkpoint = try Views.decoder().decode(Views.CheckpointView.self, from: try await admin.get("/v1/checkpoint").body)
            try checkpoint.checkpoint.write(toFile: origin.scratch.path + "/export.checkpoint", atomically: true, encoding: .utf8)
            let offline = try EdgeNodeBinary.run(["ledger", "verify", "--export", origin.scratch.path + "/export.csv", "--checkpoint",
                                                  origin.scratch.path + "/export.checkpoint", "--pubkey", origin.pubkey, "--since", saved])
            #expect(offline.status == 0 && offline.stdout.contains("ok: 26 entries"), "\(offline.stdout) \(offline.stderr)")
            // An artist token can check the signature and consistency, not rebuild.
            try (artistToken.stdout).write(toFile: origin.scratch.path + "/artist.token", atomically: true, encoding: .utf8)
            let limited = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.scratch.path + "/artist.token",
                                                  "--pubkey", origin.pubkey, "--since", saved])
            #expect(limited.status == 0 && limited.stdout.contains("cannot export the entries"), "\(limited.stdout) \(limited.stderr)")
            // Revoking: the listed digest prefix; the token stops working at once.
            let list = try EdgeNodeBinary.run(["token", "list", "--config", origin.config, "--node", "origin-1"])
            let artistLine = list.stdout.split(separator: "\n").first { $0.contains("artist:luna") }
            let digest = String(artistLine?.prefix(12) ?? "")
            #expect(try EdgeNodeBinary.run(["token", "revoke", "--config", origin.config, "--node", "origin-1", digest]).status == 0)
            #expect(try await artist.get("/v1/accounts/artist/luna/EUR").status == 401)
            #expect(try EdgeNodeBinary.run(["token", "create", "--config", origin.config, "--node", "origin-1", "--scope", "root"]).status == 2)
            #expect(server.stop() == 0)
            #expect(!server.log.contains(try origin.token()), "tokens are never logged")
        }
    }

    /// Appends from four concurrent clients and kills the origin with SIGKILL, three times; after each restart every
    /// acknowledged transfer is there with the entry it was acknowledged with, the log verifies, and the checkpoint
    /// seen before the crash is consistent with the new one.
    @Test func killNineWhileClientsAppend() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try Origin()
            defer { origin.scratch.remove() }
            let token = try origin.token()
            let acknowledged = Acknowledged()
            let seen = origin.scratch.path + "/seen.checkpoint"
            for round in 0..<3 {
                let server = try await origin.start()
                if round > 0 {
                    let after = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile,
                                                        "--pubkey", origin.pubkey, "--since", seen])
                    #expect(after.status == 0 && after.stdout.contains("consistent with the earlier checkpoint"), "\(after.stdout) \(after.stderr)")
                }
                let stop = Date().addingTimeInterval(1.5)
                await withTaskGroup(of: Void.self) { group in
                    for client in 0..<4 {
                        group.addTask {
                            let api = ControlClient(host: origin.host, port: 9090, token: token)
                            var sequence = 0
                            while Date() < stop {
                                sequence += 1
                                let key = "crash-\(round)-\(client)-\(sequence)"
                                let body = Self.transfer(key: key, amount: Int64(sequence), artist: "a\(client)")
                                guard let response = try? await api.post("/v1/transfers", json: body) else { return }
                                if response.status == 201, let result = try? Views.decoder().decode(Views.TransferResult.self, from: response.body) {
                                    acknowledged.add(key: key, leafHash: result.entry.leafHash, index: result.entry.index)
                                }
                            }
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(900))
                        // Signed now rather than waiting for the periodic checkpoint, so the round never races it.
                        let signed = try? await ControlClient(host: origin.host, port: 9090, token: token).post("/v1/checkpoints", json: nil)
                        if signed.map({ $0.status == 200 || $0.status == 201 }) != true { Issue.record("no pre-crash checkpoint") }
                        let saved = try? EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile,
                                                             "--pubkey", origin.pubkey, "--save", seen])
                        if saved?.status != 0 { Issue.record("pre-crash verify failed: \(saved?.stderr ?? "")") }
                        kill(server.pid, SIGKILL)
                    }
                }
                _ = server.stop(signal: SIGKILL)
            }
            let server = try await origin.start()
            let admin = ControlClient(host: origin.host, port: 9090, token: token)
            let all = acknowledged.all
            #expect(all.count > 50, "clients got \(all.count) acknowledgements")
            var stored: [UInt64: String] = [:]
            var start = 0
            while true {
                let page = try Views.decoder().decode(EntriesPage.self, from: try await admin.get("/v1/entries?start=\(start)").body)
                for entry in page.entries { stored[entry.index] = entry.leafHash }
                start = page.end
                if page.end >= page.treeSize { break }
            }
            let lost = all.filter { stored[$0.index] != $0.leafHash }
            #expect(lost.isEmpty, "\(lost.count) acknowledged transfers are missing or changed")
            let integrity = try await admin.get("/v1/integrity")
            #expect(String(decoding: integrity.body, as: UTF8.self).contains("\"intact\":true"))
            let final = try EdgeNodeBinary.run(["ledger", "verify", "--url", origin.url, "--token-file", origin.tokenFile, "--pubkey", origin.pubkey,
                                                "--since", seen])
            #expect(final.status == 0, "\(final.stdout) \(final.stderr)")
            // Retrying an acknowledged request after the crashes is a duplicate, never a second effect.
            if let first = all.first {
                let parts = first.key.split(separator: "-")
                let sequence = Int(parts[3])!, client = Int(parts[2])!
                let retry = try await admin.post("/v1/transfers", json: Self.transfer(key: first.key, amount: Int64(sequence), artist: "a\(client)"))
                #expect(retry.status == 200)
            }
            #expect(server.stop() == 0)
        }
    }

    /// A ledger edited behind the origin's back: on restart the origin says so, keeps serving reads and proofs,
    /// and refuses every write with 503 rather than extending a broken log.
    @Test func aTamperedLedgerRefusesWrites() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try Origin()
            defer { origin.scratch.remove() }
            let admin = ControlClient(host: origin.host, port: 9090, token: try origin.token())
            var server = try await origin.start()
            for index in 0..<3 {
                #expect(try await admin.post("/v1/transfers", json: Self.transfer(key: "t\(index)", amount: 10)).status == 201)
            }
            let signed = try Views.decoder().decode(Views.CheckpointView.self, from: try await admin.post("/v1/checkpoints", json: nil).body)
            #expect(signed.size == 3, "signed now, or already by the periodic checkpoint")
            #expect(server.stop() == 0)
            do {
                let store = try LedgerStore(path: origin.scratch.path + "/ledger/ledger.sqlite", verifier: nil)
                try await store.pool.write { try $0.execute(sql: "UPDATE balances SET balance = balance + 1000 WHERE account = 'artist/luna/EUR'") }
            }
            server = try await origin.start()
            #expect(server.log.contains("ledger integrity check failed"))
            let write = try await admin.post("/v1/transfers", json: Self.transfer(key: "t9", amount: 10))
            #expect(write.status == 503 && String(decoding: write.body, as: UTF8.self).contains("integrity_failure"))
            let integrity = String(decoding: try await admin.get("/v1/integrity").body, as: UTF8.self)
            #expect(integrity.contains("\"intact\":false") && integrity.contains("balance of artist/luna/EUR is 1030"), "\(integrity)")
            #expect(try await admin.get("/v1/checkpoint").status == 200)
            #expect(try await admin.get("/v1/proofs/inclusion?index=1").status == 200)
            #expect(server.stop() == 0)
        }
    }

    /// A transfer body: `amount` EUR cents from an external source to an artist.
    static func transfer(key: String, amount: Int64, kind: String = "royalty", source: String = "dsp", artist: String = "luna") -> Data {
        Data("""
            {"idempotency_key":"\(key)","kind":"\(kind)","postings":[{"account":"external/\(source)/EUR","side":"debit","amount":\(amount)},
            {"account":"artist/\(artist)/EUR","side":"credit","amount":\(amount)}]}
            """.utf8)
    }

    struct EntriesPage: Decodable {
        var end: Int
        var treeSize: Int
        var entries: [Views.Entry]
    }

    final class Acknowledged: @unchecked Sendable {
        struct Item { var key: String; var leafHash: String; var index: UInt64 }
        private let lock = NSLock()
        private var items: [Item] = []
        func add(key: String, leafHash: String, index: UInt64) {
            lock.lock()
            items.append(Item(key: key, leafHash: leafHash, index: index))
            lock.unlock()
        }
        var all: [Item] {
            lock.lock()
            defer { lock.unlock() }
            return items
        }
    }
}
