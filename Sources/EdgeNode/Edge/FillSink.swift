import NIOCore

/// A response waiting on a fill. The engine calls these from any thread; an implementation hops to its own event
/// loop. `available` may arrive out of order and repeated (it means "every byte before this offset is verified and
/// written"), `finish` or `fail` exactly once, last.
protocol FillSink: AnyObject, Sendable {
    /// Called on the sink's own event loop before any `available` or `finish`: where to read verified bytes from,
    /// and how the response is served (HIT, MISS or COALESCED). (A `fail` may come without it.)
    func prepare(reader: SharedFile, outcome: EdgeMetrics.Outcome)
    /// Bytes of the object before `offset` are verified and readable.
    func available(upTo offset: Int64)
    /// Everything asked for is verified.
    func finish()
    /// This node cannot store the object: the response asks `source` for the bytes it still has to send (on its own
    /// event loop) and writes what it delivers, verified but not cached. No `available`, `finish` or `fail` follows.
    func streamUncached(_ source: @escaping UncachedSource)
    /// The response cannot be completed: `status` (502, 503, 504) if nothing was sent yet, else cut off.
    func fail(status: Int, reason: String)
}

/// Streams `bytes` of an object from the parents on `eventLoop`: `deliver` gets verified bytes with their file offset
/// and answers whether more are wanted; `end` gets nil when all were delivered, else a status (502, 503, 504).
typealias UncachedSource = @Sendable (_ bytes: Range<Int64>, _ eventLoop: EventLoop, _ deliver: @escaping (ByteBuffer, Int64) -> Bool,
                                      _ end: @escaping (Int?) -> Void) -> Void
