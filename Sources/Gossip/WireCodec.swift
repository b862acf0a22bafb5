/// Why a datagram could not be decoded.
public enum WireError: Error, Equatable, Sendable {
    case unsupportedVersion(UInt8)
    case truncated
    case trailingBytes
    case unknownKind(UInt8)
    case unknownUpdate(UInt8)
    case invalidText
    case invalidValue(String)
}

/// The compact binary encoding of `GossipMessage` (version 1). Big-endian integers; strings as a length byte and
/// UTF-8; at most 255 updates. Decoding checks every bound and rejects trailing bytes.
///
/// ```
/// message := version:u8 kind:u8 sender:str kind-fields count:u8 update*
/// ping     := seq:u32 target:str          ping-req := seq:u32 target:str host:str port:u16
/// ack/nack := seq:u32                     gossip, sync-request, sync-reply := (nothing)
/// update   := 0 alive   name role region lat:i32 lon:i32 http host port:u16 inc:u64 conns:u32 egress:u64 hit:u16 load:u16
///           | 1 suspect name inc:u64 from | 2 dead name inc:u64 from | 3 left name inc:u64
///           | 4 record  key epoch:u64 value-len:u16 value sig-len:u8 sig
///           | 5 heartbeat name inc:u64 conns:u32 egress:u64 hit:u16 load:u16
/// ```
public enum WireCodec {
    public static let version: UInt8 = 1
    static let headerFixed = 3 // version, kind, update count

    public static func encode(_ message: GossipMessage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(size(ofEnvelope: message) + message.updates.reduce(0) { $0 + size(of: $1) })
        out.append(version)
        switch message.kind {
        case .ping(let sequence, let target):
            out.append(0)
            put(message.sender, &out)
            put(sequence, &out)
            put(target, &out)
        case .pingRequest(let sequence, let target, let address):
            out.append(1)
            put(message.sender, &out)
            put(sequence, &out)
            put(target, &out)
            put(address.host, &out)
            put(address.port, &out)
        case .ack(let sequence):
            out.append(2)
            put(message.sender, &out)
            put(sequence, &out)
        case .nack(let sequence):
            out.append(3)
            put(message.sender, &out)
            put(sequence, &out)
        case .gossip:
            out.append(4)
            put(message.sender, &out)
        case .sync(let reply):
            out.append(reply ? 6 : 5)
            put(message.sender, &out)
        }
        precondition(message.updates.count <= 255, "too many updates")
        out.append(UInt8(message.updates.count))
        for update in message.updates { encode(update, &out) }
        return out
    }

    /// Encoded bytes of a message without its updates.
    public static func size(ofEnvelope message: GossipMessage) -> Int {
        var size = headerFixed + 1 + message.sender.utf8.count
        switch message.kind {
        case .ping(_, let target): size += 4 + 1 + target.utf8.count
        case .pingRequest(_, let target, let address): size += 4 + 1 + target.utf8.count + 1 + address.host.utf8.count + 2
        case .ack, .nack: size += 4
        case .gossip, .sync: break
        }
        return size
    }

    /// Encoded bytes of one update.
    public static func size(of update: GossipUpdate) -> Int {
        switch update {
        case .alive(let info, _, _):
            1 + [info.name, info.role, info.region, info.http, info.gossip.host].reduce(0) { $0 + 1 + $1.utf8.count } + 4 + 4 + 2 + 8 + 4 + 8 + 2 + 2
        case .suspect(let name, _, let from), .dead(let name, _, let from):
            1 + 1 + name.utf8.count + 8 + 1 + from.utf8.count
        case .left(let name, _):
            1 + 1 + name.utf8.count + 8
        case .record(let record):
            1 + 1 + record.key.utf8.count + 8 + 2 + record.value.count + 1 + record.signature.count
        case .heartbeat(let name, _, _):
            1 + 1 + name.utf8.count + 8 + 4 + 8 + 2 + 2
        }
    }

    private static func encode(_ update: GossipUpdate, _ out: inout [UInt8]) {
        switch update {
        case .alive(let info, let incarnation, let health):
            out.append(0)
            put(info.name, &out)
            put(info.role, &out)
            put(info.region, &out)
            put(UInt32(bitPattern: info.latitude), &out)
            put(UInt32(bitPattern: info.longitude), &out)
            put(info.http, &out)
            put(info.gossip.host, &out)
            put(info.gossip.port, &out)
            put(incarnation, &out)
            put(health, &out)
        case .suspect(let name, let incarnation, let from), .dead(let name, let incarnation, let from):
            if case .suspect = update { out.append(1) } else { out.append(2) }
            put(name, &out)
            put(incarnation, &out)
            put(from, &out)
        case .left(let name, let incarnation):
            out.append(3)
            put(name, &out)
            put(incarnation, &out)
        case .record(let record):
            out.append(4)
            put(record.key, &out)
            put(record.epoch, &out)
            put(UInt16(record.value.count), &out)
            out += record.value
            out.append(UInt8(record.signature.count))
            out += record.signature
        case .heartbeat(let name, let incarnation, let health):
            out.append(5)
            put(name, &out)
            put(incarnation, &out)
            put(health, &out)
        }
    }

    private static func put(_ health: NodeHealth, _ out: inout [UInt8]) {
        put(health.activeConnections, &out)
        put(health.egressBytesPerSecond, &out)
        put(health.cacheHitPermille, &out)
        // The top bit of the load field says "not serving"; a decoder that predates it reads a load above 1000,
        // clamps it to saturated, and stops routing to the node all the same.
        put(health.loadScore | (health.serving ? 0 : Self.notServingBit), &out)
    }

    public static func decode<Bytes: Collection>(_ bytes: Bytes) throws(WireError) -> GossipMessage where Bytes.Element == UInt8 {
        var reader = Reader(Array(bytes))
        let version = try reader.byte()
        guard version == Self.version else { throw .unsupportedVersion(version) }
        let kindByte = try reader.byte()
        let sender = try reader.text()
        let kind: GossipMessage.Kind
        switch kindByte {
        case 0: kind = .ping(sequence: try reader.u32(), target: try reader.text())
        case 1: kind = .pingRequest(sequence: try reader.u32(), target: try reader.text(),
                                    address: GossipAddress(host: try reader.text(), port: try reader.u16()))
        case 2: kind = .ack(sequence: try reader.u32())
        case 3: kind = .nack(sequence: try reader.u32())
        case 4: kind = .gossip
        case 5: kind = .sync(reply: false)
        case 6: kind = .sync(reply: true)
        default: throw .unknownKind(kindByte)
        }
        let count = Int(try reader.byte())
        var updates: [GossipUpdate] = []
        updates.reserveCapacity(count)
        for _ in 0..<count { updates.append(try decodeUpdate(&reader)) }
        guard reader.isAtEnd else { throw .trailingBytes }
        return GossipMessage(sender: sender, kind: kind, updates: updates)
    }

    private static func decodeUpdate(_ reader: inout Reader) throws(WireError) -> GossipUpdate {
        let type = try reader.byte()
        switch type {
        case 0:
            let info = MemberInfo(name: try reader.text(), role: try reader.text(), region: try reader.text(),
                                  latitude: Int32(bitPattern: try reader.u32()), longitude: Int32(bitPattern: try reader.u32()),
                                  http: try reader.text(), gossip: GossipAddress(host: try reader.text(), port: try reader.u16()))
            let incarnation = try reader.u64()
            let health = try decodeHealth(&reader)
            guard !info.name.isEmpty else { throw .invalidValue("empty member name") }
            return .alive(info, incarnation: incarnation, health: health)
        case 1, 2:
            let name = try reader.text()
            let incarnation = try reader.u64()
            let from = try reader.text()
            return type == 1 ? .suspect(name: name, incarnation: incarnation, from: from) : .dead(name: name, incarnation: incarnation, from: from)
        case 3:
            return .left(name: try reader.text(), incarnation: try reader.u64())
        case 4:
            let key = try reader.text()
            let epoch = try reader.u64()
            let value = try reader.bytes(Int(try reader.u16()))
            let signature = try reader.bytes(Int(try reader.byte()))
            let record = ClusterRecord(key: key, epoch: epoch, value: value, signature: signature)
            guard record.isWellFormed else { throw .invalidValue("record \"\(key)\" outside the size limits") }
            return .record(record)
        case 5:
            let name = try reader.text()
            guard !name.isEmpty else { throw .invalidValue("empty member name") }
            return .heartbeat(name: name, incarnation: try reader.u64(), health: try decodeHealth(&reader))
        default:
            throw .unknownUpdate(type)
        }
    }

    /// Set in the wire's load field when the node's data plane does not answer.
    static let notServingBit: UInt16 = 0x8000

    private static func decodeHealth(_ reader: inout Reader) throws(WireError) -> NodeHealth {
        let connections = try reader.u32(), egress = try reader.u64(), hits = try reader.u16(), load = try reader.u16()
        return NodeHealth(activeConnections: connections, egressBytesPerSecond: egress, cacheHitPermille: hits,
                          loadScore: load & ~notServingBit, serving: load & notServingBit == 0)
    }

    private static func put(_ text: String, _ out: inout [UInt8]) {
        let bytes = Array(text.utf8.prefix(255))
        out.append(UInt8(bytes.count))
        out += bytes
    }

    private static func put<T: FixedWidthInteger>(_ value: T, _ out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    /// Bounds-checked reading.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { offset == bytes.count }

        mutating func bytes(_ count: Int) throws(WireError) -> [UInt8] {
            guard count <= bytes.count - offset else { throw .truncated }
            defer { offset += count }
            return Array(bytes[offset..<(offset + count)])
        }

        mutating func byte() throws(WireError) -> UInt8 { try bytes(1)[0] }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(WireError) -> T {
            try bytes(MemoryLayout<T>.size).reduce(T(0)) { $0 << 8 | T($1) }
        }

        mutating func u16() throws(WireError) -> UInt16 { try integer(UInt16.self) }
        mutating func u32() throws(WireError) -> UInt32 { try integer(UInt32.self) }
        mutating func u64() throws(WireError) -> UInt64 { try integer(UInt64.self) }

        mutating func text() throws(WireError) -> String {
            let raw = try bytes(Int(try byte()))
            guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidText }
            return text
        }
    }
}
