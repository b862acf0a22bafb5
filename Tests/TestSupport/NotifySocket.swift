import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket a test owns and hands to a process as `NOTIFY_SOCKET`, receiving what it reports to systemd.
public final class NotifySocket: @unchecked Sendable {
    /// The address as `NOTIFY_SOCKET` takes it: a path, or `@name` in the abstract namespace.
    public let address: String
    private let descriptor: Int32

    /// Binds a socket at `path` (a file path, or `@name`).
    public init(_ path: String) throws {
        address = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var storage = sockaddr_un()
        storage.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &storage.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw FixtureError(message: "bind \(path): \(reason)")
        }
    }

    deinit {
        close(descriptor)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next datagram's `KEY=VALUE` lines, or nil when none arrives within `timeout` seconds.
    public func receive(timeout: Double) -> [String]? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Receives until a datagram holding `line` arrives (at most `timeout` seconds); every datagram seen on the way,
    /// that one last, or nil when it never came.
    public func await(_ line: String, timeout: Double) -> [[String]]? {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [[String]] = []
        while Date() < deadline {
            guard let message = receive(timeout: max(0.01, deadline.timeIntervalSinceNow)) else { continue }
            seen.append(message)
            if message.contains(line) { return seen }
        }
        return nil
    }
}
