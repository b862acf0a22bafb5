import Foundation

/// A one-line progress bar on standard error; nil when standard error is not a terminal.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var drawn = false

    init?(label: String) {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        self.label = label
    }

    /// Redraws at most ten times a second.
    func update(_ fraction: Double) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || fraction >= 1 else { return }
        lastDraw = now
        drawn = true
        let width = 30
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandleOutput.standardError("\r\(label) [\(bar)] \(String(format: "%3d", Int(fraction * 100)))%")
    }

    /// Ends the line.
    func done() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandleOutput.standardError("\n") }
        drawn = false
    }
}
