import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a failed request to a node means, in words rather than Foundation's error domain and code.
enum NetworkFailure {
    static func describe(_ error: any Error, timeout: TimeInterval) -> String {
        guard let error = error as? URLError else { return "\(error)" }
        return switch error.code {
        case .timedOut: "no answer within \(timeout.formatted()) s"
        case .cannotConnectToHost: "connection refused (is the node running?)"
        case .cannotFindHost, .dnsLookupFailed: "unknown host"
        case .networkConnectionLost: "the connection was closed before the answer was complete"
        case .notConnectedToInternet: "no network route to the node"
        case .badServerResponse: "the answer is not valid HTTP"
        default: "cannot reach it (\(error.code.rawValue))"
        }
    }
}
