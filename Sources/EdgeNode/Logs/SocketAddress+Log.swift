import NIOCore

extension SocketAddress {
    /// The address as logs write it: `127.0.0.1:42552`, `[::1]:8080`, or a socket's path (NIO's own description,
    /// `[IPv4]127.0.0.1/127.0.0.1:42552`, repeats the host and names the family).
    var logDescription: String {
        switch self {
        case .v4:
            return "\(ipAddress ?? "?"):\(port ?? 0)"
        case .v6:
            return "[\(ipAddress ?? "?")]:\(port ?? 0)"
        case .unixDomainSocket:
            return pathname ?? "unix"
        }
    }
}
