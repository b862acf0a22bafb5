import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 24 (10): `make run`'s supervisor (`scripts/fleet.py`) never leaves its nodes running — not when it is killed
/// outright, and not when its terminal pipe is gone before it is told to stop (`make run | tee log`, then Ctrl-C).
@Suite(.serialized) struct FleetSupervisorTests {
    enum Ending: CaseIterable { case supervisorKilled, pipeClosedThenInterrupted, terminalHungUp }

    /// On threads of its own: it waits on processes and sockets with blocking calls, and must not take one of the
    /// cooperative threads every in-process server of the other suites runs on.
    @Test(arguments: Ending.allCases) func nodesNeverOutliveTheirSupervisor(ending: Ending) async throws {
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try Self.check(ending) }
    }

    static func check(_ ending: Ending) throws {
        let directory = try TemporaryDirectory("fleet-supervisor")
        defer { directory.remove() }
        let host = LoopbackAddress.next()
        try FileManager.default.createDirectory(atPath: directory.path + "/content", withIntermediateDirectories: true)
        let config = directory.path + "/nodes.conf"
        try """
            [[node]]
            name = "origin-1"
            role = "origin"
            region = "test"
            latitude = 0
            longitude = 0
            http = "\(host):18760"
            content = "\(directory.path)/content"
            threads = 1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let root = URL(fileURLWithPath: EdgeNodeBinary.path).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        supervisor.arguments = [root.appendingPathComponent("scripts/fleet.py").path, "--config", config]
        let output = Pipe()
        supervisor.standardOutput = output
        supervisor.standardError = FileHandle.nullDevice
        supervisor.standardInput = FileHandle.nullDevice
        try supervisor.run()
        defer { if supervisor.isRunning { kill(supervisor.processIdentifier, SIGKILL) } }
        let up = Self.poll(30) { (try? RawHTTPConnection.get(host, 18760, "/healthz").status) == 200 }
        try #require(up, "the node answers under its supervisor")
        let node = try #require(Self.pids(commandLineContaining: config).first { $0 != supervisor.processIdentifier }, "the node's process")
        defer { if Self.alive(node) { kill(node, SIGKILL) } }
        switch ending {
        case .supervisorKilled:
            kill(supervisor.processIdentifier, SIGKILL)
        case .pipeClosedThenInterrupted:
            try output.fileHandleForReading.close()
            kill(supervisor.processIdentifier, SIGINT)
        case .terminalHungUp:
            kill(supervisor.processIdentifier, SIGHUP)
        }
        #expect(Self.poll(20) { !Self.alive(node) }, "the node stopped with its supervisor (\(ending))")
        let ended = Self.poll(20) { !supervisor.isRunning }
        #expect(ended, "the supervisor ends")
        if ended, ending != .supervisorKilled { #expect(supervisor.terminationStatus == 0, "the nodes stopped gracefully") }
    }

    static func poll(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// Processes whose command line contains `fragment`.
    static func pids(commandLineContaining fragment: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(fragment) && line.contains(" serve ")
        }
    }

    /// Whether `pid` runs (a zombie waiting for its reaper does not).
    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }
}
