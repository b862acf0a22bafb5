import HTTPSemantics
import NIOCore

/// Writes HTTP/1.1 response heads straight into a `ByteBuffer`: no intermediate header collection, no re-validation
/// of values the node produced itself.
enum ResponseHead {
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 206: "Partial Content"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 416: "Range Not Satisfiable"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }

    /// The fields every 200 and 206 of `representation` carries (validators, caching, type, CORS): written once per
    /// file and reused; a response adds Content-Range and Content-Length.
    static func commonFields(_ representation: Representation, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 384)
        for field in ResponsePlanner.commonFields(representation) + ResponsePlanner.corsFields {
            writeField(field.name, field.value, into: &buffer)
        }
        return buffer
    }

    /// Writes the plan's fields, the CORS fields and Content-Length (for statuses that have a body).
    static func write(_ plan: ResponsePlan, into buffer: inout ByteBuffer) {
        for field in plan.fields { writeField(field.name, field.value, into: &buffer) }
        for field in ResponsePlanner.corsFields { writeField(field.name, field.value, into: &buffer) }
        if plan.status != 304 && plan.status != 204 {
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(plan.contentLength))
            buffer.writeStaticString("\r\n")
        }
    }

    static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// A buffer holding the status line, with room for `capacity` more bytes.
    static func begin(status: Int, capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: capacity + 160)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(reason(status))
        buffer.writeStaticString("\r\n")
        return buffer
    }

    /// Date, Connection (when needed) and the blank line that ends the head.
    static func end(_ buffer: inout ByteBuffer, keepAlive: Bool, http10: Bool) {
        buffer.writeStaticString("Date: ")
        buffer.writeString(DateHeader.current())
        buffer.writeStaticString("\r\n")
        if !keepAlive {
            buffer.writeStaticString("Connection: close\r\n")
        } else if http10 {
            buffer.writeStaticString("Connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
    }
}
