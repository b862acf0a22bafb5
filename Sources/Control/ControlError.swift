import Foundation
import Hummingbird
import NIOCore

/// An API error: the status, a stable machine-readable code and a precise message, sent as
/// `{"error": {"code": "...", "message": "..."}}`. 401s carry a `WWW-Authenticate: Bearer` challenge (RFC 6750).
public struct ControlError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Fields the answer carries besides the standard ones (`Allow` on a 405).
    public let headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        headers.append(contentsOf: self.headers)
        switch status {
        case .unauthorized:
            headers[.wwwAuthenticate] = "Bearer realm=\"edgenode-control\", error=\"invalid_token\""
        case .forbidden:
            headers[.wwwAuthenticate] = "Bearer realm=\"edgenode-control\", error=\"insufficient_scope\""
        default:
            break
        }
        let body = try JSONSerialization.data(withJSONObject: ["error": ["code": code, "message": message]], options: [.sortedKeys])
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badRequest(_ message: String) -> ControlError { ControlError(.badRequest, "bad_request", message) }
    static func forbidden(_ message: String) -> ControlError { ControlError(.forbidden, "insufficient_scope", message) }
    static func notFound(_ message: String) -> ControlError { ControlError(.notFound, "not_found", message) }
}
