import ArgumentParser
import EdgeNode
import Manifest

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an Ed25519 key pair: PATH.key (mode 0600) and PATH.pub."
    )

    @Option(name: .long, help: "Base path; writes PATH.key and PATH.pub.")
    var out: String

    @Option(name: .long, help: "Key name recorded in signatures.")
    var name = "edgenode-origin"

    @Flag(name: .long, help: "Overwrite existing key files.")
    var force = false

    func run() throws {
        try writeKeyPair(name: name, out: out, force: force, privateNote: "mode 0600", publicNote: nil)
    }
}

/// Generates an Ed25519 note key named `name` and writes `out.key` (0600) and `out.pub`; prints the paths (with the
/// notes given) and the key id. Errors are printed and exit 1.
func writeKeyPair(name: String, out: String, force: Bool, privateNote: String, publicNote: String?) throws {
    do {
        let signer = try NoteSigner.generate(name: name)
        let paths = try KeyStore.write(signer, basePath: out, replace: force)
        print("private key: \(paths.privateKey) (\(privateNote))")
        print("public key:  \(paths.publicKey)" + (publicNote.map { " (\($0))" } ?? ""))
        print("key id:      \(signer.verifier.keyIDHex)")
    } catch let error as KeyStoreError {
        if case .storage(.exists) = error {
            printError("\(error) (use --force to overwrite)")
        } else {
            printError("\(error)")
        }
        throw ExitCode(1)
    } catch {
        printError("\(error)")
        throw ExitCode(1)
    }
}

/// A private key a command signs with; a key that cannot be loaded is an argument error (exit 2), reported as such.
func loadSignerForCommand(_ path: String) throws -> NoteSigner {
    do {
        return try KeyStore.loadSigner(path: path)
    } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
}
