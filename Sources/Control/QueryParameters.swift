import Hummingbird

/// The query string of a request, checked: only the parameters a route knows, each at most once, integers in range.
struct QueryParameters {
    private let values: [String: String]

    init(_ request: Request, allowed: Set<String>) throws {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key)
            guard allowed.contains(name) else {
                throw ControlError.badRequest("unknown query parameter \"\(name)\"" + (allowed.isEmpty ? " (this route takes none)"
                    : " (expected: \(allowed.sorted().joined(separator: ", ")))"))
            }
            guard values[name] == nil else { throw ControlError.badRequest("query parameter \"\(name)\" is given more than once") }
            values[name] = String(value)
        }
        self.values = values
    }

    func string(_ name: String) -> String? { values[name] }

    /// An integer within `range`; `fallback` when absent (nil fallback: required).
    func integer(_ name: String, in range: ClosedRange<Int64>, default fallback: Int64? = nil) throws -> Int64 {
        guard let text = values[name] else {
            guard let fallback else { throw ControlError.badRequest("query parameter \"\(name)\" is required") }
            return fallback
        }
        guard let value = Int64(text), String(value) == text else {
            throw ControlError.badRequest("query parameter \"\(name)\" must be a decimal integer (got \"\(text.prefix(40))\")")
        }
        guard range.contains(value) else {
            throw ControlError.badRequest("query parameter \"\(name)\" must be within \(range.lowerBound)...\(range.upperBound) (got \(value))")
        }
        return value
    }

    /// A position in the log (0...`size`): a value the schema allows but the log has not reached yet is 404, not 400
    /// — the request is well-formed, the entries it names do not exist (yet).
    func logPosition(_ name: String, size: Int64, default fallback: Int64? = nil) throws -> Int64 {
        let value = try integer(name, in: 0...Int64.max, default: fallback)
        guard value <= size else { throw ControlError.notFound("\(name) \(value) is beyond the log, which has \(size) entries") }
        return value
    }

    func optionalInteger(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        values[name] == nil ? nil : try integer(name, in: range)
    }
}
