import ArgumentParser
import EdgeNode
import Foundation
import Gossip

/// `edgenode gossip-key`: the cluster keyring. Rotation without a flag day: `generate` a key, `install` it on every
/// node, `use` it on every node, then `remove` the old one (running nodes re-read the file within seconds).
struct GossipKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip-key",
        abstract: "Manage the gossip keyring (AES-256-GCM keys; the first is the primary).",
        subcommands: [Generate.self, Install.self, Use.self, Remove.self, List.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a keyring file with one new key, or print a new key (base64) to pipe into `install`.")

        @Option(name: .long, help: "Create this keyring file (mode 0600); without it, the key is printed.")
        var keyring: String?

        func run() throws {
            let key = KeyringFile.generateKey()
            guard let keyring else {
                print(Data(key.bytes).base64EncodedString())
                return
            }
            do {
                try KeyringFile.save(Keyring(primary: key), to: keyring, replace: false)
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
            print("created \(keyring) with key \(KeyringFile.describe(key))")
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key (one base64 line read from standard input, so it never shows in a process list).")

        @Option(name: .long, help: "The keyring file.")
        var keyring: String

        func run() throws {
            guard let line = readLine(strippingNewline: true), let bytes = Data(base64Encoded: line.trimmingCharacters(in: .whitespaces)) else {
                printError("expected one base64 key on standard input (edgenode gossip-key generate | edgenode gossip-key install …)")
                throw ExitCode(2)
            }
            try edit(keyring) { ring throws(KeyringError) in
                let key = try Keyring.Key(Array(bytes))
                ring.install(key)
                return "installed key \(KeyringFile.describe(key))"
            }
        }
    }

    /// The keyring file and one key of it.
    struct KeyChoice: ParsableArguments {
        @Option(name: .long, help: "The keyring file.")
        var keyring: String

        @Option(name: .long, help: "Key id (8 hex digits, from `list`).")
        var id: String

        func key(in ring: Keyring) throws(KeyringError) -> Keyring.Key {
            guard let key = ring.keys.first(where: { KeyringFile.describe($0) == id.lowercased() }) else { throw .notInstalled }
            return key
        }
    }

    struct Use: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an installed key the primary (the one that seals).")

        @OptionGroup var choice: KeyChoice

        func run() throws {
            try edit(choice.keyring) { ring throws(KeyringError) in
                try ring.use(try choice.key(in: ring))
                return "key \(choice.id) is now the primary"
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key that is not the primary.")

        @OptionGroup var choice: KeyChoice

        func run() throws {
            try edit(choice.keyring) { ring throws(KeyringError) in
                try ring.remove(try choice.key(in: ring))
                return "removed key \(choice.id)"
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the key ids, the primary first.")

        @Option(name: .long, help: "The keyring file.")
        var keyring: String

        func run() throws {
            do {
                let ring = try KeyringFile.load(keyring)
                for (index, key) in ring.keys.enumerated() { print(KeyringFile.describe(key) + (index == 0 ? "  primary" : "")) }
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}

/// Loads, changes and atomically rewrites a keyring file; errors exit 1 with a message.
private func edit(_ path: String, _ change: (inout Keyring) throws(KeyringError) -> String) throws {
    do {
        var ring = try KeyringFile.load(path)
        let message = try change(&ring)
        try KeyringFile.save(ring, to: path, replace: true)
        print(message)
    } catch {
        printError("\(error)")
        throw ExitCode(1)
    }
}
