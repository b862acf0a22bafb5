import Hummingbird

/// Answers a request for a known path with a method no route of that path takes: `405 Method Not Allowed` with the
/// `Allow` field (RFC 9110 §15.5.6), instead of the router's 404. Runs after authentication.
struct MethodGuard<Context: RequestContext>: RouterMiddleware {
    /// Each route's path split into segments (`{name}` matches any one segment), with its method.
    private let templates: [(segments: [Substring], method: HTTPRequest.Method)]

    init(routes: [ControlRoute]) {
        templates = routes.map { ($0.path.split(separator: "/"), $0.method) }
    }

    /// The methods routes of `path` take (empty: no route has this path).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return templates.filter { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }.map(\.method)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let methods = methods(for: request.uri.path)
        guard !methods.isEmpty, !methods.contains(request.method), !(request.method == .head && methods.contains(.get)) else {
            return try await next(request, context)
        }
        var allowed = methods.map(\.rawValue)
        if methods.contains(.get) { allowed.append("HEAD") }
        throw ControlError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed here (allowed: \(allowed.joined(separator: ", ")))",
                           headers: [.allow: allowed.joined(separator: ", ")])
    }
}
