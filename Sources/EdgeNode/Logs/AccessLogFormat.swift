import Foundation

/// How the access log writes a response: `combined` (nginx's and Apache's combined format, then the time to the first
/// byte and to the last, in seconds, and the cache status) or `json` (one object per line).
public enum AccessLogFormat: String, Sendable, CaseIterable {
    case combined, json

    /// The line (without its newline) for `response`, whose last byte was written `totalSeconds` after it arrived.
    func line(_ response: ResponseRecord, totalSeconds: Double) -> String {
        let request = response.request ?? .init(client: "-", method: "-", uri: "-", version: "-", time: 0)
        let firstByte = response.firstByte >= response.started ? Double(response.firstByte - response.started) / 1e9 : 0
        switch self {
        case .combined:
            return request.client + " - - [" + Self.commonLogTime(request.time) + "] \"" + Self.escapedQuoted(request.method + " " + request.uri
                + " " + request.version) + "\" \(response.status) \(response.bytes) \"" + Self.escapedQuoted(request.referer ?? "-") + "\" \""
                + Self.escapedQuoted(request.userAgent ?? "-") + "\" ttfb=" + Self.seconds(firstByte) + " total=" + Self.seconds(totalSeconds)
                + " cache=" + (response.cacheStatus ?? "-") + " answer=" + response.answer.rawValue
        case .json:
            var line = "{\"time\":" + LogFormat.jsonString(LogFormat.timestamp(Date(timeIntervalSince1970: request.time)))
            line += ",\"client\":" + LogFormat.jsonString(request.client) + ",\"method\":" + LogFormat.jsonString(request.method)
            line += ",\"path\":" + LogFormat.jsonString(request.uri) + ",\"status\":\(response.status),\"bytes\":\(response.bytes)"
            line += ",\"ttfb\":" + Self.seconds(firstByte) + ",\"total\":" + Self.seconds(totalSeconds)
            line += ",\"cache\":" + (response.cacheStatus.map(LogFormat.jsonString) ?? "null") + ",\"answer\":" + LogFormat.jsonString(response.answer.rawValue)
            line += ",\"referer\":" + (request.referer.map(LogFormat.jsonString) ?? "null")
            line += ",\"user_agent\":" + (request.userAgent.map(LogFormat.jsonString) ?? "null") + "}"
            return line
        }
    }

    /// Seconds with microsecond precision.
    static func seconds(_ value: Double) -> String {
        let micros = Int64((value * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// A value inside double quotes in the combined format: `"` and `\` escaped, control bytes as `\xHH` (as nginx
    /// does), so a crafted User-Agent cannot forge a line.
    static func escapedQuoted(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0..<0x20, 0x7F...:
                out += "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// `03/Dec/2026:02:51:11 +0000`.
    static func commonLogTime(_ time: Double) -> String {
        var seconds = time_t(time.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_mday))/\(months[Int(parts.tm_mon)])/\(parts.tm_year + 1900):\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
