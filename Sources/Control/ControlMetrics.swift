import Dispatch
import Hummingbird
import Metrics

/// `edgenode_control_requests_total{method, route, status}` and `edgenode_control_request_seconds{route}` for every
/// control API request, refused ones included (it runs first). `route` is the matching route's template
/// (`/v1/artists/{artist}/statement`), `unmatched` otherwise, so the series stay few whatever paths clients send.
struct ControlMetrics<Context: RequestContext>: RouterMiddleware {
    private let templates: [(path: String, segments: [Substring])]

    init(routes: [ControlRoute]) {
        var seen = Set<String>()
        templates = routes.compactMap { route in seen.insert(route.path).inserted ? (route.path, route.path.split(separator: "/")) : nil }
    }

    /// The template of the route `path` belongs to, or `unmatched`.
    func route(of path: String) -> String {
        let segments = path.split(separator: "/")
        return templates.first { template in
            template.segments.count == segments.count && zip(template.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }?.path ?? "unmatched"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let route = route(of: request.uri.path)
        do {
            let response = try await next(request, context)
            record(request, route: route, status: response.status.code, started: started)
            return response
        } catch let error as HTTPResponseError {
            record(request, route: route, status: error.status.code, started: started)
            throw error
        } catch {
            record(request, route: route, status: 500, started: started)
            throw error
        }
    }

    private func record(_ request: Request, route: String, status: Int, started: UInt64) {
        let method = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"].contains(request.method.rawValue) ? request.method.rawValue : "other"
        Counter(label: "edgenode_control_requests_total", dimensions: [("method", method), ("route", route), ("status", "\(min(max(status / 100, 1), 5))xx")])
            .increment()
        let now = DispatchTime.now().uptimeNanoseconds
        Timer(label: "edgenode_control_request_seconds", dimensions: [("route", route)])
            .recordNanoseconds(Int64(clamping: now >= started ? now - started : 0))
    }
}
