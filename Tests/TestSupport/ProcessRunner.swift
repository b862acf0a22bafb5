import Foundation

/// The outcome of a finished child process.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs real processes (ffmpeg, ffprobe, the edgenode binary) with a time limit.
public enum ProcessRunner {
    /// Runs `executable` (a path, or a name looked up on PATH) and waits at most `timeout` seconds; `input` is its
    /// standard input (empty by default).
    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil, timeout: TimeInterval = 120) throws -> ProcessOutput {
        try start(executable, arguments, input: input).wait(timeout: timeout)
    }

    /// Starts `executable` and returns at once: the process runs on its own (no thread of the caller's is held), and
    /// its output is collected until `wait`.
    public static func start(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> RunningProcess {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        }
        process.arguments = executable.contains("/") ? arguments : [executable] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        try process.run()
        if let inputPipe, let input {
            inputPipe.fileHandleForWriting.write(input)
            try? inputPipe.fileHandleForWriting.close()
        }
        let running = RunningProcess(process: process)
        for (pipe, sink) in [(out, running.outData), (err, running.errData)] {
            running.group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                running.group.leave()
            }
        }
        return running
    }
}

/// A child process started by `ProcessRunner.start`.
public final class RunningProcess: @unchecked Sendable {
    let process: Process
    let outData = LockedData()
    let errData = LockedData()
    let group = DispatchGroup()

    init(process: Process) {
        self.process = process
    }

    /// Waits at most `timeout` seconds (then kills it) and returns what it printed.
    public func wait(timeout: TimeInterval = 120) -> ProcessOutput {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        group.wait()
        return ProcessOutput(status: process.terminationStatus,
                             stdout: String(decoding: outData.get(), as: UTF8.self),
                             stderr: String(decoding: errData.get(), as: UTF8.self))
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String) throws {
        path = NSTemporaryDirectory() + "edgenode-\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Entries of the directory (hidden ones included).
    public func entries() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? []
    }
}
