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
        do {
            let signer = try NoteSigner.generate(name: name)
            let paths = try KeyStore.write(signer, basePath: out, replace: force)
            print("private key: \(paths.privateKey) (mode 0600)")
            print("public key:  \(paths.publicKey)")
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
}
