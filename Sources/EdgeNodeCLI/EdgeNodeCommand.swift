import ArgumentParser
import EdgeNode
import Foundation

/// `edgenode`: the content-delivery edge node daemon and its origin-side tools.
@main
struct EdgeNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgenode",
        abstract: "Content-delivery edge node: publish signed HLS on the origin, verify it anywhere.",
        version: BuildInfo.description,
        subcommands: [ServeCommand.self, ReloadCommand.self, StatusCommand.self, KeygenCommand.self, OperatorCommand.self, EmergencyCommand.self, RoyaltyCommand.self, GossipKeyCommand.self, SegmentCommand.self,
                      VerifyCommand.self, LedgerCommand.self, TokenCommand.self]
    )

    /// Runs the command; an argument error exits 2 with its message and the usage (argument-parser's own code is 64),
    /// as every command's documented exit status says.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandleOutput.standardError(fullMessage(for: error) + "\n")
            Foundation.exit(2)
        }
    }
}

/// Prints `edgenode: error: …` to standard error.
func printError(_ message: String) {
    var stderr = StandardError()
    print("edgenode: error: \(message)", to: &stderr)
}

/// Prints a warning to standard error.
func printWarning(_ message: String) {
    var stderr = StandardError()
    print("edgenode: warning: \(message)", to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleOutput.standardError(string)
    }
}

enum FileHandleOutput {
    static func standardError(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
