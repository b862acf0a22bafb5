import ArgumentParser
import EdgeNode

/// Which ledger database a command works on: `--db PATH`, or the origin's `ledger_db` from `--config` and `--node`.
struct LedgerDatabaseOption: ParsableArguments {
    @Option(name: .long, help: "The ledger database.")
    var db: String?

    @Option(name: .long, help: "The fleet's nodes.conf (with --node: use that origin's ledger_db).")
    var config: String?

    @Option(name: .long, help: "The origin node in nodes.conf.")
    var node: String?

    /// The database path.
    func path() throws -> String {
        switch (db, config, node) {
        case (let db?, nil, nil):
            return db
        case (nil, let config?, let node?):
            let entry = try NodesConfig.load(path: config).node(named: node)
            guard let ledger = entry.ledger else { throw ValidationError("node \(node) has no control module (control and ledger_db)") }
            return ledger.database
        default:
            throw ValidationError("give either --db PATH or --config FILE --node NAME")
        }
    }
}
