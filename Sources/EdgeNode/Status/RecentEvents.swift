import Foundation
import Synchronization

/// The last few of something a node did, newest last, for the status page: a fixed number kept, the oldest dropped.
final class RecentEvents<Event: Sendable>: Sendable {
    private let kept: Mutex<[Event]>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        kept = Mutex([])
    }

    func append(_ event: Event) {
        kept.withLock { events in
            if events.count == capacity { events.removeFirst() }
            events.append(event)
        }
    }

    var events: [Event] { kept.withLock { $0 } }
}

/// A routing decision as the status page lists it.
struct RoutingEvent: Codable, Sendable, Equatable {
    /// Unix seconds.
    var time: Double
    /// Where the viewer was placed (`zone:NAME`, `geoip`, `node:NAME`).
    var viewer: String
    var content: String
    /// redirect, serve or degraded.
    var result: String
    /// The node chosen (this node when served here).
    var target: String
    var reason: String
}

/// A change of the emergency mode as the status page lists it.
struct EmergencyEvent: Codable, Sendable, Equatable {
    /// Unix seconds when this node took it.
    var time: Double
    var mode: String
    var epoch: UInt64
    var signedBy: [String]
    var reason: String
}
