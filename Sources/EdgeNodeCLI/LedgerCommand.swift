import ArgumentParser
import Control
import EdgeNode
import Foundation
import Ledger
import LedgerStore
import Manifest

/// `edgenode ledger`: the royalty ledger's checkpoints and artist receipts, from the command line.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Sign ledger checkpoints, make artist receipts, verify receipts and the whole log.",
        subcommands: [IssueCheckpoint.self, MakeReceipt.self, VerifyReceipt.self, VerifyLog.self]
    )

    /// The checkpoint origin line of the ledger's log.
    static let defaultLog = LedgerModule.defaultLogOrigin

    struct IssueCheckpoint: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "checkpoint",
                                                        abstract: "Sign a checkpoint of the ledger's log (if it grew since the last one).")

        @Option(name: .long, help: "The ledger database.")
        var db: String

        @Option(name: .long, help: "The origin's private key (PATH.key).")
        var key: String

        @Option(name: .long, help: "The log's name in the checkpoint.")
        var log = LedgerCommand.defaultLog

        @Option(name: .long, help: "Also append the checkpoint to this witness file.")
        var witness: String?

        func run() throws {
            try reportingErrors {
                let signer = try KeyStore.loadSigner(path: key)
                let store = try LedgerStore(path: db, verifier: signer.verifier)
                let anchors: [any CheckpointAnchor] = witness.map { [FileWitness(path: $0)] } ?? []
                if let note = try store.issueCheckpoint(signer: signer, origin: log, at: Int64(Date().timeIntervalSince1970 * 1000),
                                                        anchors: anchors) {
                    print(note.rendered, terminator: "")
                } else {
                    print("no new entries since the last checkpoint (size \(store.size))")
                }
            }
        }
    }

    struct MakeReceipt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "receipt",
                                                        abstract: "Write an artist's receipt for a period (against the latest checkpoint).")

        @Option(name: .long, help: "The ledger database.")
        var db: String

        @Option(name: .long, help: "The artist id.")
        var artist: String

        @Option(name: .long, help: "Start of the period, inclusive: YYYY-MM-DD (UTC) or milliseconds since the epoch.")
        var from: String

        @Option(name: .long, help: "End of the period, exclusive: YYYY-MM-DD (UTC) or milliseconds since the epoch.")
        var to: String

        @Option(name: .long, help: "Write the receipt here (default: standard output).")
        var out: String?

        func run() throws {
            try reportingErrors {
                let store = try LedgerStore(path: db, verifier: nil)
                let receipt = try store.receipt(artist: artist, from: try LedgerCommand.time(from), to: try LedgerCommand.time(to))
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data = try encoder.encode(receipt)
                if let out {
                    try AtomicFile.write(data, to: out, mode: 0o644, replace: true)
                    print("wrote \(out): \(receipt.entries.count) entries")
                } else {
                    print(String(decoding: data, as: UTF8.self))
                }
            }
        }
    }

    struct VerifyReceipt: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify-receipt",
                                                        abstract: "Check a receipt offline against the origin's public key.")

        @Argument(help: "The receipt file.")
        var file: String

        @Option(name: .long, help: "The origin's public key (PATH.pub).")
        var pubkey: String

        @Option(name: .long, help: "The log's name in the checkpoint.")
        var log = LedgerCommand.defaultLog

        func run() throws {
            try reportingErrors {
                let verifier = try KeyStore.loadVerifier(path: pubkey)
                let receipt = try JSONDecoder().decode(Receipt.self, from: try AtomicFile.read(file, limit: 64 << 20))
                let entries = try ReceiptVerifier.verify(receipt, verifier: verifier, logOrigin: log)
                var totals: [Currency: Int64] = [:]
                for entry in entries {
                    for posting in entry.transfer.postings where posting.account.artist == receipt.artist {
                        totals[posting.account.currency, default: 0] += posting.side == .credit ? posting.amount : -posting.amount
                    }
                }
                let summary = totals.keys.sorted().map { "\($0.format(totals[$0]!)) \($0)" }.joined(separator: ", ")
                print("ok: \(entries.count) entries for \(receipt.artist), net \(summary.isEmpty ? "0" : summary), all in the signed log")
            }
        }
    }

    /// `YYYY-MM-DD` (UTC midnight) or milliseconds.
    static func time(_ text: String) throws -> Int64 {
        if let milliseconds = Int64(text) { return milliseconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: text) else { throw ValidationError("\"\(text)\" is not YYYY-MM-DD or milliseconds") }
        return Int64(date.timeIntervalSince1970 * 1000)
    }
}

/// Runs `body`; any error is printed as `edgenode: error: …` and exits 1 (2 for bad arguments).
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch {
        throw exitStatus(reporting: error)
    }
}

/// Prints `error` as `edgenode: error: …`; the exit code for it: 2 for bad arguments, else 1.
func exitStatus(reporting error: any Error) -> ExitCode {
    if let error = error as? ValidationError {
        printError(error.message)
        return ExitCode(2)
    }
    printError("\(error)")
    return ExitCode(1)
}
