import ArgumentParser
import EdgeNode
import Manifest

/// `edgenode operator …`: the operators' own keys (they sign emergency flags; origin keys never do).
struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Operator keys: the keys that may sign emergency flags.",
        subcommands: [OperatorKeygenCommand.self]
    )
}

struct OperatorKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write an operator's Ed25519 key pair: PATH.key (mode 0600) and PATH.pub (list it in [fleet] operator_keys)."
    )

    @Option(name: .long, help: "Base path; writes PATH.key and PATH.pub.")
    var out: String

    @Option(name: .long, help: "Key name recorded in the flags it signs.")
    var name = "edgenode-operator"

    @Flag(name: .long, help: "Overwrite existing key files.")
    var force = false

    func run() throws {
        try writeKeyPair(name: name, out: out, force: force, privateNote: "mode 0600; keep it off the fleet's hosts",
                         publicNote: "add it to [fleet] operator_keys")
    }
}
