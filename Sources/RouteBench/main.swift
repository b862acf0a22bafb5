import Dispatch
import EdgeCache
import Routing

// The routing policy's cost and its effect on caching. Run by bench/route.sh.
//
// 1. Decisions per second of the pure policy (`RoutingPolicy.decide`, the zone lookup and the viewer's placement) at
//    1,000 nodes and 10,000 coverage zones, viewers spread over the zones, contents drawn from a Zipf law.
// 2. Byte hit ratio of a 3-edge group (equal S3-FIFO caches, same total size) under one seeded Zipf trace, viewers
//    sent by rendezvous hashing of the content id (what the policy does inside a group) vs round-robin.

var generator = SplitMix64(seed: 12)
@MainActor func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &generator) }

// MARK: decisions per second
let roles: [NodeRole] = [.edge, .edge, .edge, .edge, .edge, .edge, .origin, .mesh, .satellite, .edge]
let nodes = (0..<1_000).map { index in
    RoutingPolicy.Member(name: "node-\(index)", role: roles[index % roles.count],
                         location: GeoPoint(latitude: uniform(-60...70), longitude: uniform(-180...180))!,
                         status: index % 97 == 0 ? .dead : .alive, load: UInt16(index * 37 % 1000), aliveForSeconds: 3_600)
}
var zoneList: [CoverageZones.Zone] = []
for index in 0..<10_000 {
    // A /24 per zone in 10.0.0.0/8, plus one /48 in 2001:db8::/32.
    let v4 = try! IPNetwork("10.\(index / 256).\(index % 256).0/24")
    let v6 = try! IPNetwork("2001:db8:\(String(index, radix: 16))::/48")
    zoneList.append(.init(name: "zone-\(index)", networks: [v4, v6], location: GeoPoint(latitude: uniform(-60...70), longitude: uniform(-180...180))!))
}
let zones = try! CoverageZones(zoneList)
let policy = RoutingPolicy()
var contents = ZipfTrace(objects: 50_000, alpha: 1.0, seed: 3)
let viewers = (0..<4_096).map { _ in IPAddress("10.\(Int.random(in: 0..<39, using: &generator)).\(Int.random(in: 0..<256, using: &generator)).7")! }
let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20_000
var checksum = 0
print("policy: \(nodes.count) nodes, \(zoneList.count) zones (\(zoneList.count * 2) networks), \(rounds) decisions each")
for (label, limit) in [("redirect (first candidate)", 1), ("whole ranking (/route)", nil)] as [(String, Int?)] {
    let started = DispatchTime.now().uptimeNanoseconds
    for round in 0..<rounds {
        let address = viewers[round % viewers.count]
        let location = zones.zone(of: address)?.location ?? nodes[0].location
        let decision = policy.decide(.init(viewer: location, contentID: "content-\(contents.next()!)", previous: "node-1"), members: nodes, limit: limit)
        checksum += decision.candidates.count
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    print("  \(label): \(Int(Double(rounds) / seconds)) decisions/s, \(String(format: "%.1f", seconds / Double(rounds) * 1e6)) µs each")
}

// Zone lookups alone.
let lookups = 2_000_000
var found = 0
let lookupStart = DispatchTime.now().uptimeNanoseconds
for index in 0..<lookups where zones.zone(of: viewers[index % viewers.count]) != nil { found += 1 }
let lookupSeconds = Double(DispatchTime.now().uptimeNanoseconds - lookupStart) / 1e9
print("  zone lookups: \(Int(Double(lookups) / lookupSeconds))/s (\(found) found)")

// A small group, as a metro has: the decision a node makes per playlist request.
let group = (0..<8).map { RoutingPolicy.Member(name: "edge-\($0)", role: .edge, location: GeoPoint(latitude: 48.85 + Double($0) / 100, longitude: 2.35)!) }
let smallStart = DispatchTime.now().uptimeNanoseconds
for round in 0..<rounds * 10 {
    checksum += policy.decide(.init(viewer: group[0].location, contentID: "content-\(round % 5_000)"), members: group).candidates.count
}
let smallSeconds = Double(DispatchTime.now().uptimeNanoseconds - smallStart) / 1e9
print("  8-node group, whole ranking: \(Int(Double(rounds * 10) / smallSeconds)) decisions/s, \(String(format: "%.2f", smallSeconds / Double(rounds * 10) * 1e6)) µs each (checksum \(checksum))")

// MARK: group hit ratio
let objects = 20_000
let requests = 600_000
var sizeGenerator = SplitMix64(seed: 7)
let sizes: [Int64] = (0..<objects).map { _ in Int64.random(in: 1_000_000...4_000_000, using: &sizeGenerator) }
let catalogBytes = sizes.reduce(0, +)
let edges = ["edge-a", "edge-b", "edge-c"]
print("group of \(edges.count) edges, S3-FIFO each, \(objects) objects (\(catalogBytes / 1_000_000_000) GB), \(requests) requests, Zipf α=1.0, same trace")
print("total cache  rendezvous byte hit  round-robin byte hit  origin bytes rendezvous/round-robin")
for fraction in [0.03, 0.06, 0.15, 0.30] {
    var results: [String: (hits: Int64, bytes: Int64)] = [:]
    for scheme in ["rendezvous", "round-robin"] {
        var caches = edges.map { _ in S3FIFOPolicy<Int>(capacityBytes: Int64(Double(catalogBytes) * fraction) / Int64(edges.count)) }
        var trace = ZipfTrace(objects: objects, alpha: 1.0, seed: 21)
        var hits: Int64 = 0, bytes: Int64 = 0
        for index in 0..<requests {
            let key = trace.next()!
            let edge = scheme == "rendezvous" ? edges.firstIndex(of: Rendezvous.rank(key: "content-\(key)", nodes: edges)[0])! : index % edges.count
            if caches[edge].request(key, size: sizes[key]).hit { hits += sizes[key] }
            bytes += sizes[key]
        }
        results[scheme] = (hits, bytes)
    }
    let rendezvous = results["rendezvous"]!, roundRobin = results["round-robin"]!
    let ratio = Double(rendezvous.bytes - rendezvous.hits) / Double(roundRobin.bytes - roundRobin.hits)
    print(String(format: "%10.0f %%  %18.3f  %20.3f  %10.2f", fraction * 100, Double(rendezvous.hits) / Double(rendezvous.bytes),
                 Double(roundRobin.hits) / Double(roundRobin.bytes), ratio))
}
