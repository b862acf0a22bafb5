import ArgumentParser
import EdgeNode
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `edgenode reload`: SIGHUP to a running node (found by the pid file in its content directory), then its verdict.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make a running node re-read nodes.conf (as nginx -s reload): it keeps serving, an invalid file is refused.",
        discussion: """
            Checks the file first (one that does not load is not sent), then sends SIGHUP to the node's process (its pid
            is in <content>/.edgenode-NAME.pid) and waits for the outcome the node writes to
            <content>/.edgenode-NAME.reload. Exit status: 0 reloaded, 1 the file or the node refused it or no answer,
            2 bad arguments or no running node.
            """)

    @Option(name: .long, help: "The fleet's nodes.conf.")
    var config: String

    @Option(name: .long, help: "Which node of nodes.conf to reload.")
    var node: String

    @Option(name: .long, help: "Seconds to wait for the node's verdict.")
    var timeout: Double = 10

    func run() async throws {
        // As `nginx -s reload` does, a file that does not load is not sent: the running node would refuse it.
        let fleet: NodesConfig
        do {
            fleet = try NodesConfig.load(path: config)
        } catch {
            printError("not reloading: \(error)")
            throw ExitCode(1)
        }
        let files: RunFiles
        do {
            files = RunFiles(content: try fleet.node(named: node).content, node: node)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let pid: Int32
        do {
            pid = try files.readPID()
        } catch {
            printError("node \(node) is not running (\(error))")
            throw ExitCode(2)
        }
        // A pid file left by a node that crashed may name a process that reused the number: never signal that one.
        guard Self.isNode(pid: pid, named: node) else {
            printError("node \(node) is not running (\(files.pidPath) names pid \(pid), which is not `edgenode serve --node \(node)`)")
            throw ExitCode(2)
        }
        let before = (try? files.readReload()).flatMap { $0.pid == pid ? $0.generation : nil } ?? 0
        guard kill(pid, SIGHUP) == 0 else {
            printError("node \(node) (pid \(pid)) cannot be signalled: \(String(cString: strerror(errno)))")
            throw ExitCode(2)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let outcome = try? files.readReload(), outcome.pid == pid, outcome.generation > before {
                guard outcome.reloaded else {
                    printError("node \(node) refused the new configuration and keeps the one in force: \(outcome.error ?? "")")
                    throw ExitCode(1)
                }
                print("node \(node) reloaded: " + (outcome.applied.isEmpty ? "nothing changed" : "applied " + outcome.applied.joined(separator: ", ")))
                if !outcome.needRestart.isEmpty {
                    printWarning("changed but kept until node \(node) restarts: \(outcome.needRestart.joined(separator: ", "))")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        printError("node \(node) (pid \(pid)) did not report a reload within \(timeout) s")
        throw ExitCode(1)
    }

    /// Whether process `pid` runs `edgenode serve … --node NAME` (its command line, from `/proc`).
    static func isNode(pid: Int32, named name: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.contains("serve"), let flag = arguments.firstIndex(of: "--node"), flag + 1 < arguments.count else { return false }
        return arguments[flag + 1] == name
    }
}
