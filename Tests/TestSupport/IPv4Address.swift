import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 `host:port` as the socket calls want it.
public enum IPv4Address {
    /// Calls `body` with a `sockaddr` for `host:port` and its length (for connect, bind, sendto).
    public static func with<Result>(_ host: String, _ port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
