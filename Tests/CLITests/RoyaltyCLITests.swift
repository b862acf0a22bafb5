import Control
import Foundation
import Ledger
import Testing
import TestSupport

/// The royalty commands against a real origin publishing real content: a DSP statement matched by the ISRC in the
/// signed manifest, imported once, reconciled, then paid out.
@Suite(.serialized) struct RoyaltyCLITests {
    @Test func aStatementMatchedByISRCIsImportedOnceAndPaidOut() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try ControlProcessTests.Origin(extra: ControlProcessTests.Origin.payoutSettings)
            defer { origin.scratch.remove() }
            let input = try await MediaFixtures.shared.path(.h264AAC)
            let segment = try EdgeNodeBinary.run(["segment", input, "--out", origin.scratch.path + "/content/song-1", "--key",
                                                  origin.scratch.path + "/origin.key", "--artist", "luna", "--isrc", "us-rc1-76-07839"])
            try #require(segment.status == 0, "\(segment.stderr)")
            let server = try await origin.start()
            let admin = ControlClient(host: origin.host, port: 9090, token: try origin.token())
            let settings = #"{"method":"sepa","account_name":"Luna Díaz","iban":"DE89 3704 0044 0532 0130 00","minimum":1000,"currency":"EUR","tax_country":"US"}"#
            #expect(try await admin.send(method: .PUT, path: "/v1/artists/luna/payout-settings", body: Data(settings.utf8),
                                         headers: [("Content-Type", "application/json")]).status == 200)
            let statement = origin.scratch.path + "/spotify-2026-11.csv"
            let lines = "SalesTransactionId,ResourceISRC,Territory,UseType,Usages,NetRevenue,Currency\r\n"
                + "t1,USRC17607839,FR,Stream,12000,38.40,EUR\r\nt2,GBAYE0000001,GB,Stream,10,0.05,EUR\r\n"
            try lines.write(toFile: statement, atomically: true, encoding: .utf8)
            let target = ["--config", origin.config, "--token-file", origin.tokenFile]
            let imported = try EdgeNodeBinary.run(["royalty", "import", statement, "--dsp", "spotify", "--period", "2026-11"] + target)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.contains("statement spotify 2026-11: 2 lines; 2 booked now, 0 booked before; 1 matched, 1 in suspense"), "\(imported.stdout)")
            #expect(imported.stdout.contains("EUR: revenue 38.45, to artists 38.40, in suspense 0.05"), "\(imported.stdout)")
            #expect(imported.stdout.contains("unmatched line 3 (t2): ISRC GBAYE0000001, 5 minor units EUR"), "\(imported.stdout)")
            let again = try EdgeNodeBinary.run(["royalty", "import", statement, "--dsp", "spotify", "--period", "2026-11"] + target)
            #expect(again.status == 0 && again.stdout.contains("0 booked now, 2 booked before"), "\(again.stdout) \(again.stderr)")
            try lines.replacingOccurrences(of: "38.40", with: "38.41").write(toFile: statement, atomically: true, encoding: .utf8)
            let changed = try EdgeNodeBinary.run(["royalty", "import", statement, "--dsp", "spotify", "--period", "2026-11"] + target)
            #expect(changed.status == 1 && changed.stderr.contains("line 2 (t1): NetRevenue differ from the earlier import"), "\(changed.stderr)")
            // Paid out: 38.40 less the shipped table's 30 % US withholding.
            let out = origin.scratch.path + "/payouts"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let run = try EdgeNodeBinary.run(["royalty", "payout-run", "--period", "2026-11", "--out", out] + target)
            #expect(run.status == 0 && run.stdout.contains("run 2026-11-EUR: 1 payouts, gross 38.40 EUR, withheld 11.52, net 26.88"), "\(run.stdout) \(run.stderr)")
            let sepa = try String(contentsOfFile: out + "/payouts-2026-11-EUR.xml", encoding: .utf8)
            #expect(try PainSchema.validate(sepa).status == 0)
            #expect(sepa.contains("<Nm>Luna Diaz</Nm>") && sepa.contains("Royalties 2026-11 luna"))
            // Argument errors exit 2 and say what is wrong.
            let missing = try EdgeNodeBinary.run(["royalty", "import", origin.scratch.path + "/nope.csv", "--dsp", "spotify", "--period", "2026-11"] + target)
            #expect(missing.status == 2 && missing.stderr.contains("nope.csv"), "\(missing.stderr)")
            let noTarget = try EdgeNodeBinary.run(["royalty", "payout-run", "--period", "2026-11", "--token-file", origin.tokenFile])
            #expect(noTarget.status == 2 && noTarget.stderr.contains("--config FILE or --url URL"), "\(noTarget.stderr)")
            let badPeriod = try EdgeNodeBinary.run(["royalty", "payout-run", "--period", "2026-13"] + target)
            #expect(badPeriod.status == 1 && badPeriod.stderr.contains("period"), "\(badPeriod.stderr)")
            #expect(server.stop() == 0)
        }
    }
}
