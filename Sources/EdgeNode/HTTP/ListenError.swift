import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A service could not listen on its address: says which service, where, and why in words.
public struct ListenError: Error, CustomStringConvertible {
    public let service: String
    public let address: String
    public let underlying: Error

    public init(service: String, address: String, underlying: Error) {
        self.service = service
        self.address = address
        self.underlying = underlying
    }

    /// Whether a socket error is one that binding an address fails with.
    public static func isListenFailure(_ error: IOError) -> Bool {
        [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode)
    }

    public var description: String {
        let reason: String
        if let io = underlying as? IOError {
            reason = switch io.errnoCode {
            case EADDRINUSE: "the address is already in use (is another process listening there?)"
            case EACCES: "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
            case EADDRNOTAVAIL: "no local interface has this address"
            default: "\(io)"
            }
        } else {
            reason = "\(underlying)"
        }
        return "cannot listen for \(service) on \(address): \(reason)"
    }
}
