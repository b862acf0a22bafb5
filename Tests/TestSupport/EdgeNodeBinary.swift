import Foundation

/// The built `edgenode` executable, run as a real process.
public enum EdgeNodeBinary {
    /// `EDGENODE_BIN`, or the debug build next to the package (the Makefile builds it before testing).
    public static var path: String {
        if let path = ProcessInfo.processInfo.environment["EDGENODE_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/edgenode").path
    }

    public static func run(_ arguments: [String], input: Data? = nil) throws -> ProcessOutput {
        try ProcessRunner.run(path, arguments, input: input, timeout: 300)
    }
}
