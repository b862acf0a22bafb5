/// The viewer's address for routing: the socket's peer, unless that peer is a trusted proxy, in which case
/// `X-Forwarded-For` is read from the right, past every trusted proxy, to the first address that is not one (what
/// nginx's `real_ip_recursive on` does). Nothing a viewer sends can move it unless it reaches the node through a
/// trusted proxy.
public enum ViewerAddress {
    /// - Parameters:
    ///   - peer: the address of the connection's other end.
    ///   - forwardedFor: every `X-Forwarded-For` field value, in the order they arrived.
    public static func resolve(peer: IPAddress, forwardedFor: [Substring], trustedProxies: [IPNetwork]) -> IPAddress {
        func trusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }
        guard trusted(peer) else { return peer }
        var current = peer
        for field in forwardedFor.reversed() {
            for element in field.split(separator: ",").reversed() {
                // A hop that does not parse was written by someone this node cannot vouch for: stop at the last
                // trusted hop.
                guard let address = IPAddress(element.trimmingSpaces) else { return current }
                current = address
                guard trusted(address) else { return address }
            }
        }
        return current
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
