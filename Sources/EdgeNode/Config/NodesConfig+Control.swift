extension NodesConfig {
    /// The node hosting the fleet's control API (the origin with a `control` address), if any.
    public var controlNode: Node? { nodes.first { $0.control != nil } }

    /// The control API's URL: `https://` when its origin has a certificate (`tls_cert`), else `http://`.
    public var controlURL: String? {
        guard let node = controlNode, let address = node.control else { return nil }
        return (node.tlsCertificate == nil ? "http://" : "https://") + address.description
    }
}
