import ArgumentParser
import EdgeNode
import Manifest

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a published directory: signature, playlists, every file and every 64 KiB chunk."
    )

    @Argument(help: "The content directory (holds manifest.json).")
    var directory: String

    @Option(name: .long, help: "The origin's public key (PATH.pub).")
    var pubkey: String

    func run() throws {
        let verifier: NoteVerifier
        do {
            verifier = try KeyStore.loadVerifier(path: pubkey)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let report = ContentVerifier(directory: directory, verifier: verifier).verify()
        if report.isValid {
            print("ok: \(report.filesChecked) files, \(report.bytesChecked) bytes verified; root \(report.root ?? "")")
            return
        }
        for problem in report.problems {
            printError("\(directory)/\(problem)")
        }
        printError("verification failed: \(report.problems.count) problem(s)")
        throw ExitCode(1)
    }
}
