import Testing
@testable import Routing

@Suite struct RendezvousTests {
    /// Removing a node moves only the keys it held; the others stay where they were.
    @Test func removingANodeMovesOnlyItsKeys() {
        let nodes = (1...6).map { "edge-\($0)" }
        let keys = (0..<5_000).map { "content-\($0)" }
        let before = Dictionary(uniqueKeysWithValues: keys.map { ($0, Rendezvous.rank(key: $0, nodes: nodes)[0]) })
        let survivors = nodes.filter { $0 != "edge-3" }
        var moved = 0
        for key in keys {
            let after = Rendezvous.rank(key: key, nodes: survivors)[0]
            if before[key] == "edge-3" { moved += 1 } else { #expect(after == before[key], "\(key) moved") }
        }
        #expect(moved > 0)
    }

    /// Keys spread evenly: every node of 5 gets 20 % ± 2 points of 20,000 keys.
    @Test func keysSpreadEvenly() {
        let nodes = ["a", "b", "c", "d", "e"]
        var counts: [String: Int] = [:]
        for key in 0..<20_000 { counts[Rendezvous.rank(key: "k\(key)", nodes: nodes)[0], default: 0] += 1 }
        for node in nodes { #expect((3_600...4_400).contains(counts[node] ?? 0), "\(node): \(counts[node] ?? 0)") }
    }

    @Test func scoresAreFixedAcrossProcesses() {
        // Pinned: every node must compute the same scores, so the hash may never change silently.
        #expect(Rendezvous.score(key: "clip", node: "edge-1") == Rendezvous.score(key: "clip", node: "edge-1"))
        #expect(Rendezvous.score(key: "clip", node: "edge-1") != Rendezvous.score(key: "clip", node: "edge-2"))
        #expect(Rendezvous.score(key: "ab", node: "c") != Rendezvous.score(key: "a", node: "bc"), "the separator counts")
    }
}

@Suite struct RoutingPolicyTests {
    static func point(_ latitude: Double, _ longitude: Double) -> GeoPoint { GeoPoint(latitude: latitude, longitude: longitude)! }

    static func randomMembers(_ count: Int, using generator: inout SeededGenerator) -> [RoutingPolicy.Member] {
        (0..<count).map { index in
            RoutingPolicy.Member(
                name: "node-\(index)", role: NodeRole.allCases.randomElement(using: &generator)!,
                location: point(Double.random(in: -60...60, using: &generator), Double.random(in: -180...180, using: &generator)),
                status: [.alive, .alive, .alive, .suspect, .dead, .left].randomElement(using: &generator)!,
                load: UInt16.random(in: 0...1000, using: &generator), draining: Int.random(in: 0..<8, using: &generator) == 0,
                aliveForSeconds: [1, 30, .infinity].randomElement(using: &generator)!)
        }
    }

    /// With no load, no group radius and everyone settled, the first candidate is the nearest eligible edge.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func nearestWins(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let policy = RoutingPolicy(settings: .init(groupRadiusKm: 0, loadPenaltyKm: 0, overloadedAt: 1001, hysteresisKm: 0, recoverySeconds: 0))
        for _ in 0..<200 {
            let members = Self.randomMembers(Int.random(in: 1...40, using: &generator), using: &generator)
            let viewer = Self.point(Double.random(in: -60...60, using: &generator), Double.random(in: -180...180, using: &generator))
            let decision = policy.decide(.init(viewer: viewer, contentID: "c"), members: members)
            let eligible = members.filter { $0.status == .alive && !$0.draining }
            let tier = [NodeRole.edge, .origin].first { role in eligible.contains { $0.role == role } }
            let pool = tier.map { role in eligible.filter { $0.role == role } } ?? eligible
            let nearest = pool.min { viewer.distanceKm(to: $0.location) < viewer.distanceKm(to: $1.location) }
            #expect(decision.candidates.first?.distanceKm == nearest.map { viewer.distanceKm(to: $0.location) })
        }
    }

    /// Suspect, dead, departed, draining and overloaded members are never candidates; everyone else is, exactly once;
    /// tiers never interleave; the member order does not matter.
    @Test(arguments: [5, 6, 7] as [UInt64])
    func onlyHealthyMembersAreCandidates(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let policy = RoutingPolicy()
        for _ in 0..<200 {
            let members = Self.randomMembers(Int.random(in: 0...30, using: &generator), using: &generator)
            let request = RoutingPolicy.Request(viewer: Self.point(45, 5), contentID: "content-\(Int.random(in: 0..<50, using: &generator))")
            let decision = policy.decide(request, members: members)
            let expected = Set(members.filter { $0.status == .alive && !$0.draining && $0.load < 900 }.map(\.name))
            #expect(Set(decision.candidates.map(\.name)) == expected)
            #expect(decision.candidates.count == expected.count)
            #expect(decision.candidates.map(\.tier) == decision.candidates.map(\.tier).sorted())
            #expect(Set(decision.excluded.map(\.name)).isDisjoint(with: expected))
            #expect(decision.candidates.count + decision.excluded.count == members.count)
            #expect(policy.decide(request, members: members.shuffled(using: &generator)).candidates == decision.candidates)
            for limit in [0, 1, 2, 5] {
                #expect(policy.decide(request, members: members, limit: limit).candidates == Array(decision.candidates.prefix(limit)),
                        "a limited ranking is the full ranking's prefix (limit \(limit))")
            }
            var previous = request
            previous.previous = members.randomElement(using: &generator)?.name
            let full = policy.decide(previous, members: members).candidates
            #expect(policy.decide(previous, members: members, limit: 1).candidates == Array(full.prefix(1)))
        }
    }

    @Test func tiersFollowTheRequest() {
        let members = [
            RoutingPolicy.Member(name: "edge", role: .edge, location: Self.point(48.85, 2.35)),
            RoutingPolicy.Member(name: "origin", role: .origin, location: Self.point(48.85, 2.35)),
            RoutingPolicy.Member(name: "mesh", role: .mesh, location: Self.point(40, -3)),
            RoutingPolicy.Member(name: "satellite", role: .satellite, location: Self.point(48.85, 2.35)),
        ]
        let policy = RoutingPolicy()
        let normal = policy.decide(.init(viewer: Self.point(48.85, 2.35), contentID: "c"), members: members)
        #expect(normal.candidates.map(\.name) == ["edge", "origin", "satellite", "mesh"])
        let emergency = policy.decide(.init(viewer: Self.point(48.85, 2.35), contentID: "c", roleTiers: [[.mesh, .satellite]]), members: members)
        #expect(emergency.candidates.map(\.name) == ["satellite", "mesh"])
        #expect(Set(emergency.excluded.filter { $0.reason == .role }.map(\.name)) == ["edge", "origin"])
    }

    @Test func loadMovesViewersToALessLoadedNode() {
        let viewer = Self.point(48.85, 2.35)
        let near = RoutingPolicy.Member(name: "near", role: .edge, location: Self.point(48.85, 2.35), load: 800)
        let farther = RoutingPolicy.Member(name: "farther", role: .edge, location: Self.point(50.85, 4.35), load: 0)  // Brussels, ~265 km
        let policy = RoutingPolicy(settings: .init(groupRadiusKm: 50, loadPenaltyKm: 500))
        #expect(policy.decide(.init(viewer: viewer, contentID: "c"), members: [near, farther]).candidates.map(\.name) == ["farther", "near"])
        var lighter = near
        lighter.load = 200
        #expect(policy.decide(.init(viewer: viewer, contentID: "c"), members: [lighter, farther]).candidates.map(\.name) == ["near", "farther"])
    }

    @Test func hysteresisKeepsThePreviousNode() {
        let viewer = Self.point(48.85, 2.35)
        let paris = RoutingPolicy.Member(name: "paris", role: .edge, location: viewer)
        let lille = RoutingPolicy.Member(name: "lille", role: .edge, location: Self.point(50.63, 3.06))  // ~204 km
        let policy = RoutingPolicy(settings: .init(groupRadiusKm: 50, hysteresisKm: 250))
        let kept = policy.decide(.init(viewer: viewer, contentID: "c", previous: "lille"), members: [paris, lille])
        #expect(kept.candidates.map(\.name) == ["lille", "paris"])
        #expect(kept.candidates.first?.reason == .previous)
        let tight = RoutingPolicy(settings: .init(groupRadiusKm: 50, hysteresisKm: 100))
        #expect(tight.decide(.init(viewer: viewer, contentID: "c", previous: "lille"), members: [paris, lille]).candidates.first?.name == "paris")
    }

    /// Inside a group the content picks the node; taking one node out moves only the contents it had.
    @Test func theGroupSplitsContentsByHash() {
        let viewer = Self.point(48.85, 2.35)
        let group = (1...4).map { RoutingPolicy.Member(name: "paris-\($0)", role: .edge, location: Self.point(48.85 + Double($0) * 0.01, 2.35)) }
        let policy = RoutingPolicy()
        var owners: [String: String] = [:]
        for content in (0..<400).map({ "content-\($0)" }) {
            let first = policy.decide(.init(viewer: viewer, contentID: content), members: group).candidates[0]
            #expect(first.reason == .nearestGroup)
            owners[content] = first.name
        }
        #expect(Set(owners.values).count == 4, "every cache of the group gets contents")
        var down = group
        down[1].status = .dead
        for (content, owner) in owners {
            let now = policy.decide(.init(viewer: viewer, contentID: content), members: down).candidates[0].name
            if owner != "paris-2" { #expect(now == owner, "\(content) moved from \(owner)") } else { #expect(now != "paris-2") }
        }
    }

    @Test func aRecoveredNodeWaitsBeforeTakingViewersBack() {
        let viewer = Self.point(48.85, 2.35)
        var paris = RoutingPolicy.Member(name: "paris", role: .edge, location: viewer, aliveForSeconds: 3)
        let lyon = RoutingPolicy.Member(name: "lyon", role: .edge, location: Self.point(45.76, 4.84))
        let policy = RoutingPolicy(settings: .init(recoverySeconds: 10))
        let early = policy.decide(.init(viewer: viewer, contentID: "c"), members: [paris, lyon])
        #expect(early.candidates.map(\.name) == ["lyon", "paris"])
        #expect(early.candidates.last?.reason == .recovering)
        paris.aliveForSeconds = 12
        #expect(policy.decide(.init(viewer: viewer, contentID: "c"), members: [paris, lyon]).candidates.first?.name == "paris")
        // Alone, a recovering node is still better than nothing.
        paris.aliveForSeconds = 1
        #expect(policy.decide(.init(viewer: viewer, contentID: "c"), members: [paris]).candidates.map(\.name) == ["paris"])
    }
}
