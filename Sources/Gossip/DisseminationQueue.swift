/// Updates waiting to be piggybacked, each sent a bounded number of times, least-sent first. Two lanes: cluster
/// records get their own share of every packet before member updates may use it, so a storm of membership churn
/// can never starve them (memberlist issue #299), and member updates keep only the newest per member.
struct DisseminationQueue: Sendable {
    private struct Entry: Sendable {
        var update: GossipUpdate
        var size: Int
        var sent: Int
        var order: UInt64
    }

    private var members: [String: Entry] = [:]
    private var records: [String: Entry] = [:]
    private var nextOrder: UInt64 = 0

    var isEmpty: Bool { members.isEmpty && records.isEmpty }
    var count: Int { members.count + records.count }

    /// Queues an update (replacing an older one about the same member or record key). A heartbeat never replaces a
    /// queued full `alive` of the same member: the `alive` takes the newer incarnation and health instead, so members
    /// still learning about it get its description.
    mutating func enqueue(_ update: GossipUpdate) {
        nextOrder += 1
        var update = update
        if case .heartbeat(let name, let incarnation, let health) = update, case .alive(let info, _, _)? = members[name]?.update {
            update = .alive(info, incarnation: incarnation, health: health)
        }
        let entry = Entry(update: update, size: WireCodec.size(of: update), sent: 0, order: nextOrder)
        if case .record(let record) = update {
            records[record.key] = entry
        } else if let name = update.memberName {
            members[name] = entry
        }
    }

    /// Updates for one packet with `budget` bytes of room: records first (up to `recordShare` of the room, then any
    /// room left), member updates least-sent and newest first. Each chosen update counts as sent once and leaves
    /// the queue after `memberLimit` (records: `recordLimit`) sends. `first` (the buddy system: a suspicion about
    /// the packet's recipient) goes in before anything else.
    mutating func take(budget: Int, recordShare: Double, memberLimit: Int, recordLimit: Int, first: GossipUpdate? = nil) -> [GossipUpdate] {
        var room = budget
        var chosen: [GossipUpdate] = []
        if let first, WireCodec.size(of: first) <= room {
            chosen.append(first)
            room -= WireCodec.size(of: first)
        }
        let recordRoom = Int(Double(room) * recordShare)
        var recordUsed = 0
        Self.take(from: &records, room: recordRoom, used: &recordUsed, limit: recordLimit, into: &chosen)
        room -= recordUsed
        var memberUsed = 0
        Self.take(from: &members, room: room, used: &memberUsed, limit: memberLimit, into: &chosen, skipping: first?.memberName)
        room -= memberUsed
        var moreRecords = 0
        Self.take(from: &records, room: room, used: &moreRecords, limit: recordLimit, into: &chosen)
        return chosen
    }

    private static func sortedKeys(_ lane: [String: Entry]) -> [String] {
        lane.sorted { ($0.value.sent, UInt64.max - $0.value.order) < ($1.value.sent, UInt64.max - $1.value.order) }.map(\.key)
    }

    private static func take(from lane: inout [String: Entry], room: Int, used: inout Int, limit: Int, into chosen: inout [GossipUpdate],
                               skipping: String? = nil) {
        guard room > 0, chosen.count < 255 else { return }
        for key in sortedKeys(lane) where key != skipping {
            guard var entry = lane[key], chosen.count < 255 else { break }
            if chosen.contains(entry.update) { continue }
            guard entry.size <= room - used else { continue }
            chosen.append(entry.update)
            used += entry.size
            entry.sent += 1
            lane[key] = entry.sent >= limit ? nil : entry
        }
    }
}
