/// Applying membership updates and records, with SWIM's precedence rules.
extension GossipCore {
    /// Applies one update; returns what changed. An update that changes this node's view is queued to be passed
    /// on; one that changes nothing is dropped (so rumours die out). `directFrom` names the member the message came
    /// from when it came from that member's roster address.
    mutating func apply(_ update: GossipUpdate, now: UInt64, directFrom: String? = nil) -> [GossipDirective] {
        guard isAdmissible(update, directFrom: directFrom) else {
            counters.updatesRefused += 1
            return []
        }
        switch update {
        case .alive(let info, let incarnation, let health):
            if info.name == me.info.name {
                // A previous life of this node announced a higher incarnation: continue above it.
                if incarnation >= me.incarnation && (info != me.info || health != me.health || incarnation > me.incarnation) {
                    refute(above: incarnation, now: now)
                }
                return []
            }
            let previous = others[info.name]
            if let previous, incarnation <= previous.incarnation { return [] }
            let member = Member(info: info, incarnation: incarnation, status: .alive, health: health, changedAt: now)
            store(member)
            if suspicions.removeValue(forKey: info.name) != nil { counters.suspicionsCleared += 1 }
            queue.enqueue(update)
            return previous?.status == .alive && previous?.info == info ? [] : [.memberChanged(member, previous: previous?.status)]
        case .heartbeat(let name, let incarnation, let health):
            if name == me.info.name {
                if incarnation > me.incarnation { refute(above: incarnation, now: now) }
                return []
            }
            // Only for a member known already; a newcomer's description arrives with its `alive` or anti-entropy.
            guard let previous = others[name], incarnation > previous.incarnation else { return [] }
            var member = previous
            member.incarnation = incarnation
            member.health = health
            member.status = .alive
            member.changedAt = now
            store(member)
            if suspicions.removeValue(forKey: name) != nil { counters.suspicionsCleared += 1 }
            queue.enqueue(update)
            return previous.status == .alive ? [] : [.memberChanged(member, previous: previous.status)]
        case .suspect(let name, let incarnation, let from):
            if name == me.info.name {
                guard !leaving else { return [] }
                // Refuted (or still holding an old suspicion, someone says it again): gossip spreads the heartbeat, and
                // the accuser — the member that most needs it — is told directly.
                if incarnation >= me.incarnation {
                    refute(above: incarnation, now: now)
                } else {
                    queue.enqueue(selfHeartbeat)
                }
                return tellAccuser(from, now: now)
            }
            guard var member = others[name] else { return [] }
            switch member.status {
            case .alive where incarnation >= member.incarnation:
                let previous = member.status
                member.status = .suspect
                member.incarnation = incarnation
                member.changedAt = now
                store(member)
                suspicions[name] = Suspicion(start: now, accuser: from, confirmations: [from])
                queue.enqueue(update)
                // About `suspectProbers` members (all of a small cluster) probe the suspect out of turn: confirmations
                // reach the shortest timeout within a period, without n probes of one member in a large cluster.
                let share = Double(settings.suspectProbers) / Double(max(1, activeCount - 1))
                // The probe starts now when none is running (else as soon as the running one ends), not at the next
                // period: the suspicion then reaches its minimum one period sooner.
                if from != me.info.name && Double.random(in: 0..<1, using: &generator) < share {
                    order.prioritize(name)
                    if probe == nil { nextProbeAt = min(nextProbeAt, now) }
                }
                return [.memberChanged(member, previous: previous)]
            case .suspect where incarnation > member.incarnation:
                member.incarnation = incarnation
                store(member)
                suspicions[name] = Suspicion(start: now, accuser: from, confirmations: [from])
                queue.enqueue(update)
                return []
            case .suspect where incarnation == member.incarnation:
                // An independent confirmation shortens the suspicion; pass it on so others count it too — up to K
                // of them: more cannot shorten it further, and re-gossiping each would multiply the traffic.
                var suspicion = suspicions[name] ?? Suspicion(start: now, accuser: from, confirmations: [])
                if suspicion.confirmations.count <= settings.suspicionConfirmations, suspicion.confirmations.insert(from).inserted {
                    suspicions[name] = suspicion
                    queue.enqueue(update)
                }
                return []
            default:
                return []
            }
        case .dead(let name, let incarnation, _), .left(let name, let incarnation):
            let status: MemberStatus = if case .dead = update { .dead } else { .left }
            if name == me.info.name {
                guard !leaving else { return [] }
                if incarnation >= me.incarnation {
                    refute(above: incarnation, now: now)
                } else {
                    queue.enqueue(selfHeartbeat)
                }
                if case .dead(_, _, let accuser) = update { return tellAccuser(accuser, now: now) }
                return []
            }
            guard var member = others[name], member.status.isActive else { return [] }
            if incarnation < member.incarnation {
                // Declared dead at an incarnation older than the suspicion held here (the member's last announcement
                // reached only some before it failed): not a death here, but independent evidence for the suspicion.
                if case .dead(_, _, let accuser) = update, member.status == .suspect, var suspicion = suspicions[name],
                   suspicion.confirmations.count <= settings.suspicionConfirmations, suspicion.confirmations.insert(accuser).inserted {
                    suspicions[name] = suspicion
                }
                return []
            }
            let previous = member.status
            member.status = status
            member.incarnation = incarnation
            member.changedAt = now
            store(member)
            suspicions[name] = nil
            order.remove(name)
            queue.enqueue(update)
            return [.memberChanged(member, previous: previous)]
        case .record(let record):
            guard record.isWellFormed, validator(record) else {
                counters.recordsRejected += 1
                return []
            }
            if let existing = records[record.key], !record.supersedes(existing) { return [] }
            records[record.key] = record
            queue.enqueue(update)
            return [.recordChanged(record)]
        }
    }

    /// Whether a member update may be applied at all. Values come from the wire, and any member holding the fleet
    /// key can forge them, so: with a roster, the member must be in it and an `alive` must describe it exactly as the
    /// roster does (no member can move another's address, role or location); an incarnation may not jump more than
    /// `maximumIncarnationJump` above the one known (this node's own included) — except in a member's own `alive` or
    /// heartbeat sent from its roster address, since only the member itself can have moved that far (a node that
    /// missed a few forged jumps catches up from the member, at the latest when the member answers its probe).
    /// Records are checked by the validator instead.
    func isAdmissible(_ update: GossipUpdate, directFrom: String?) -> Bool {
        let name: String, incarnation: UInt64, ownWord: Bool
        switch update {
        case .alive(let info, let claimed, _):
            if let pinned = roster[info.name], pinned != info { return false }
            (name, incarnation, ownWord) = (info.name, claimed, directFrom == info.name)
        case .heartbeat(let subject, let claimed, _):
            (name, incarnation, ownWord) = (subject, claimed, directFrom == subject)
        case .suspect(let subject, let claimed, _), .dead(let subject, let claimed, _), .left(let subject, let claimed):
            (name, incarnation, ownWord) = (subject, claimed, false)
        case .record:
            return true
        }
        let known: UInt64
        if name == me.info.name {
            known = me.incarnation
        } else {
            guard roster.isEmpty || roster[name] != nil else { return false }
            known = others[name]?.incarnation ?? 0
        }
        return ownWord || incarnation <= known.saturatingAdd(settings.maximumIncarnationJump)
    }

    /// A member accused this node at an incarnation it has already left behind: that member has not heard the newer
    /// ones (perhaps it refused them as too far ahead when they reached it second-hand), so this node tells it
    /// directly, from its own address — the one source whose word on its incarnation is always taken. At most once
    /// per accuser and protocol period, so forged accusations cannot turn this node into an amplifier.
    mutating func tellAccuser(_ accuser: String, now: UInt64) -> [GossipDirective] {
        guard accuser != me.info.name, let address = roster[accuser]?.gossip else { return [] }
        if let last = toldAccusers[accuser], now.elapsed(since: last) < settings.probeInterval { return [] }
        toldAccusers[accuser] = now
        return [.send(GossipMessage(sender: me.info.name, kind: .gossip, updates: [selfHeartbeat]), to: address)]
    }

    /// This node is suspected or declared dead (or a past life of it announced more): it announces itself alive
    /// at a higher incarnation. Lifeguard counts this against local health (a node that keeps being suspected is
    /// probably the slow one). At the very top of the range the incarnation stays there (admissibility keeps
    /// forged jumps from getting near it).
    mutating func refute(above incarnation: UInt64, now: UInt64) {
        me.incarnation = max(me.incarnation, incarnation).saturatingAdd(1)
        me.changedAt = now
        counters.refutations += 1
        adjustLocalHealth(1)
        queue.enqueue(selfHeartbeat)
    }

    /// Dead and left members are forgotten after the retention time (checked at each anti-entropy round).
    mutating func forgetTheLongDead(now: UInt64) {
        for (name, member) in others where !member.status.isActive && now.elapsed(since: member.changedAt) > settings.deadRetention {
            forget(name)
        }
    }
}

extension UInt64 {
    /// `self + other`, held at `UInt64.max` instead of trapping.
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
