import Foundation

/// Building outgoing messages: piggybacked updates within the packet budget, gossip rounds, anti-entropy pages.
extension GossipCore {
    /// Room for updates in a message with this envelope.
    func room(for envelope: GossipMessage) -> Int {
        settings.packetBudget - settings.sealOverhead - WireCodec.size(ofEnvelope: envelope)
    }

    /// A message of `kind` with as many queued updates as fit; a suspicion about `recipient` goes first.
    mutating func send(_ kind: GossipMessage.Kind, to address: GossipAddress, recipient: String?) -> GossipDirective {
        var message = GossipMessage(sender: me.info.name, kind: kind)
        var buddy: GossipUpdate?
        if let recipient, let member = others[recipient], member.status == .suspect {
            buddy = .suspect(name: recipient, incarnation: member.incarnation, from: me.info.name)
        }
        message.updates = takeUpdates(room: room(for: message), first: buddy)
        return .send(message, to: address)
    }

    mutating func takeUpdates(room: Int, first: GossipUpdate? = nil) -> [GossipUpdate] {
        let limit = settings.retransmits(members: activeCount)
        return queue.take(budget: room, recordShare: settings.recordShare, memberLimit: limit,
                          recordLimit: limit * settings.recordRetransmitFactor, first: first)
    }

    /// Every gossip interval: pending updates to `gossipFanout` random members (one packet each).
    mutating func gossipRound(now: UInt64) -> [GossipDirective] {
        guard now >= nextGossipAt else { return [] }
        nextGossipAt = now + settings.gossipInterval
        guard !queue.isEmpty else { return [] }
        var directives: [GossipDirective] = []
        for target in randomActive(count: settings.gossipFanout, excluding: []) {
            let directive = send(.gossip, to: target.info.gossip, recipient: target.info.name)
            if case .send(let message, _) = directive, !message.updates.isEmpty { directives.append(directive) }
        }
        return directives
    }

    /// Every anti-entropy interval (longer in large clusters): the full state to one member — usually a live one,
    /// one time in four a member believed dead (so a healed partition finds its way back), a seed when alone.
    mutating func antiEntropy(now: UInt64) -> [GossipDirective] {
        guard now >= nextSyncAt else { return [] }
        forgetTheLongDead(now: now)
        let n = activeCount
        let scale = n > 32 ? UInt64(max(1, Int((log2(Double(n)) - 5).rounded(.up)) + 1)) : 1
        nextSyncAt = now + settings.antiEntropyInterval * scale
        let dead = others.values.filter { !$0.status.isActive }.sorted { $0.info.name < $1.info.name }
        let target: GossipAddress?
        if n == 1 {
            target = seeds.isEmpty ? dead.first?.info.gossip : seeds[Int.random(in: 0..<seeds.count, using: &generator)]
        } else if !dead.isEmpty && Int.random(in: 0..<4, using: &generator) == 0 {
            target = dead[Int.random(in: 0..<dead.count, using: &generator)].info.gossip
        } else {
            target = randomActive(count: 1, excluding: []).first?.info.gossip
        }
        guard let target else { return [] }
        return syncPages(to: target, reply: false)
    }

    /// This node's whole state (members, itself included, and records) as sync messages within the budget. A request
    /// asks for the receiver's state on its first page only (the others are marked as needing no reply), so a
    /// multi-page exchange gets one answer.
    mutating func syncPages(to address: GossipAddress, reply: Bool) -> [GossipDirective] {
        var state: [GossipUpdate] = [selfUpdate]
        for member in others.values.sorted(by: { $0.info.name < $1.info.name }) {
            switch member.status {
            case .alive: state.append(.alive(member.info, incarnation: member.incarnation, health: member.health))
            case .suspect:
                state.append(.alive(member.info, incarnation: member.incarnation, health: member.health))
                state.append(.suspect(name: member.info.name, incarnation: member.incarnation,
                                      from: suspicions[member.info.name]?.accuser ?? me.info.name))
            case .dead: state.append(.dead(name: member.info.name, incarnation: member.incarnation, from: me.info.name))
            case .left: state.append(.left(name: member.info.name, incarnation: member.incarnation))
            }
        }
        if leaving { state[0] = .left(name: me.info.name, incarnation: me.incarnation) }
        state += records.keys.sorted().map { .record(records[$0]!) }
        let envelope = GossipMessage(sender: me.info.name, kind: .sync(reply: reply))
        let room = room(for: envelope)
        var pages: [GossipDirective] = []
        var page = envelope
        var used = 0
        for update in state {
            let size = WireCodec.size(of: update)
            if used + size > room || page.updates.count == 255 {
                pages.append(.send(page, to: address))
                page = GossipMessage(sender: me.info.name, kind: .sync(reply: true))
                used = 0
            }
            page.updates.append(update)
            used += size
        }
        pages.append(.send(page, to: address))
        return pages
    }
}
