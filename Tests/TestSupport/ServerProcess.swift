import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A server started as a real process for a test, stopped (SIGKILL if need be) when the test is done.
public final class ServerProcess: @unchecked Sendable {
    public let host: String
    public let port: Int
    private let process: Process
    private let logPath: String

    /// Starts `executable` (with `environment` added to this process's) and waits until `host:port` answers HTTP (at
    /// most `readyTimeout` seconds).
    public init(_ executable: String, _ arguments: [String], host: String, port: Int, readyTimeout: TimeInterval = 15,
                environment: [String: String] = [:]) throws {
        self.host = host
        self.port = port
        logPath = NSTemporaryDirectory() + "edgenode-server-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : "/usr/bin/env")
        process.arguments = executable.contains("/") ? arguments : [executable] + arguments
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(readyTimeout)
        while Date() < deadline {
            if !process.isRunning { throw ServerProcessError.exited(process.terminationStatus, log: self.log) }
            if let connection = try? RawHTTPConnection(host: host, port: port, timeout: 2) {
                try? connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if (try? connection.readResponse()) != nil { return }
            }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGKILL)
        throw ServerProcessError.notReady(log: self.log)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// What the process printed so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits up to `timeout` seconds for the exit status (nil if still running).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

public enum ServerProcessError: Error, CustomStringConvertible {
    case exited(Int32, log: String)
    case notReady(log: String)

    public var description: String {
        switch self {
        case .exited(let status, let log): "server exited with status \(status): \(log)"
        case .notReady(let log): "server did not answer in time: \(log)"
        }
    }
}

/// Hands out distinct loopback addresses (127.0.X.Y), one per server in a test run, so servers never collide.
public enum LoopbackAddress {
    private static let counter = Counter()

    public static func next() -> String {
        let n = counter.next()
        return "127.\(10 + Int(getpid()) % 200).\(n / 250).\(n % 250 + 2)"
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
