/// Failure detection: probes, indirect probes, helpers' relays, suspicion expiry.
extension GossipCore {
    mutating func advanceProbe(now: UInt64) -> [GossipDirective] {
        var directives: [GossipDirective] = []
        if var current = probe {
            if !current.indirectSent && now >= current.directDeadline {
                current.indirectSent = true
                if let target = others[current.target] {
                    // The direct path gets a second chance alongside the indirect ones (a lost ping or ack is the
                    // common case on a lossy link); the same sequence, so whichever ack comes first counts.
                    directives.append(send(.ping(sequence: current.sequence, target: target.info.name), to: target.info.gossip,
                                           recipient: target.info.name))
                    let helpers = randomActive(count: settings.indirectProbes, excluding: [current.target])
                    current.helpers = helpers.count
                    // Only helpers heard from lately are expected to nack: after a mass failure most members picked
                    // are dead themselves, and their silence must not slow this node down.
                    current.expectedNacks = helpers.count { lastHeard[$0.info.name].map { now.elapsed(since: $0) <= Self.heardWindow(settings) } ?? false }
                    for helper in helpers {
                        directives.append(send(.pingRequest(sequence: current.sequence, target: target.info.name, address: target.info.gossip),
                                               to: helper.info.gossip, recipient: helper.info.name))
                    }
                }
                probe = current
            }
            if now >= current.end {
                probe = nil
                counters.probesFailed += 1
                // Lifeguard as memberlist implements it: helpers that answered `nack` show this node's network works
                // and the target is the silent one, so only missing nacks count against local health (without
                // helpers, the failed probe itself does). Every member probing a dead one must not slow them all.
                if current.expectedNacks > 0 {
                    adjustLocalHealth(max(0, current.expectedNacks - current.nacks))
                } else if current.helpers == 0 || !heardFromAnyone(now: now) {
                    // No helper to tell, or this node hears from no one at all: its own network may be the problem.
                    adjustLocalHealth(1)
                }
                if let target = others[current.target], target.status.isActive {
                    // A new suspicion, or an independent confirmation of an existing one (Lifeguard).
                    if target.status == .alive { counters.suspicionsRaised += 1 }
                    directives += apply(.suspect(name: target.info.name, incarnation: target.incarnation, from: me.info.name), now: now)
                }
            }
        }
        if probe == nil && now >= nextProbeAt {
            nextProbeAt = now + scaled(settings.probeInterval)
            let candidates = others
            let (shifted, overflow) = Int64(clamping: now).addingReportingOverflow(clockOffset)
            let wall = overflow ? (clockOffset > 0 ? UInt64(Int64.max) : 0) : UInt64(clamping: shifted)
            if let target = order.next(slot: wall / settings.probeInterval, me: me.info.name, others: activeNames, version: membershipVersion,
                                       suspected: { candidates[$0]?.status == .suspect }, eligible: { candidates[$0]?.status.isActive ?? false }) {
                let member = others[target]!
                let sequence = nextSequence()
                probe = Probe(target: target, sequence: sequence, directDeadline: now + scaled(settings.probeTimeout), end: nextProbeAt)
                counters.probesSent += 1
                directives.append(send(.ping(sequence: sequence, target: target), to: member.info.gossip, recipient: target))
            }
        }
        return directives
    }

    /// Helpers whose target stayed silent tell the prober (`nack`).
    mutating func expireRelays(now: UInt64) -> [GossipDirective] {
        let expired = relays.filter { $0.value.deadline <= now }.sorted { $0.key < $1.key }
        return expired.map { sequence, relay in
            relays[sequence] = nil
            return send(.nack(sequence: relay.originSequence), to: relay.origin, recipient: nil)
        }
    }

    mutating func expireSuspicions(now: UInt64) -> [GossipDirective] {
        var directives: [GossipDirective] = []
        let n = activeCount
        for name in suspicions.keys.sorted() {
            guard var suspicion = suspicions[name],
                  now >= suspicion.start + suspicionTimeout(confirmations: suspicion.confirmations.count, members: n),
                  let member = others[name], member.status == .suspect else { continue }
            let ownProbeFailed = suspicion.confirmations.contains(me.info.name)
            if suspicion.confirmations.count <= settings.suspicionConfirmations && (!ownProbeFailed || suspicion.confirmations.count == 1) {
                // Few accusers and not this node, or this node alone: a check of its own first (pings carrying the suspicion, so an
                // answer brings the refutation). A suspicion whose refutation this node missed, or that one member forged,
                // does not become a death here; a silent suspect is declared dead one period later.
                if suspicion.checkedUntil == nil {
                    let sequence = nextSequence()
                    checks[sequence] = name
                    suspicion.checkedUntil = now + settings.probeInterval
                    suspicions[name] = suspicion
                    // Twice directly and through k helpers at once: a lost datagram must not be what turns a suspicion
                    // into a death.
                    for _ in 0..<2 { directives.append(send(.ping(sequence: sequence, target: name), to: member.info.gossip, recipient: name)) }
                    for helper in randomActive(count: settings.indirectProbes, excluding: [name]) {
                        directives.append(send(.pingRequest(sequence: sequence, target: name, address: member.info.gossip),
                                               to: helper.info.gossip, recipient: helper.info.name))
                    }
                    continue
                }
                if now < suspicion.checkedUntil! { continue }
            }
            checks = checks.filter { $0.value != name }
            counters.deathsDeclared += 1
            directives += apply(.dead(name: name, incarnation: member.incarnation, from: me.info.name), now: now)
        }
        return directives
    }

    /// How recently a member must have been heard from to count as a helper that would nack: a few probe periods.
    static func heardWindow(_ settings: GossipSettings) -> UInt64 { settings.probeInterval * 2 }

    /// Whether any member sent this node a message of its own within the window.
    func heardFromAnyone(now: UInt64) -> Bool {
        let window = Self.heardWindow(settings)
        return lastHeard.values.contains { now.elapsed(since: $0) <= window }
    }
}
