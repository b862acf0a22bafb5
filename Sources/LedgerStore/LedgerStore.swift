import Foundation
import GRDB
import Ledger
import Manifest
import Synchronization

/// The ledger on SQLite: entries (their canonical bytes and leaf hashes) in commit order, postings, balances,
/// idempotency keys and signed checkpoints, in one database in WAL mode with `synchronous=FULL` — a batch
/// acknowledged is on disk. The Merkle log is kept in memory, rebuilt from the stored leaves on open and checked
/// against the latest signed checkpoint; if anything disagrees the store refuses writes (and says exactly what).
public final class LedgerStore: Sendable {
    private struct State {
        var tree = MerkleTree()
        var broken: [String] = []
        /// Per account, the indexes of the entries that post to it, in order (rebuilt from the leaves on open).
        var entriesByAccount: [String: [Int]] = [:]
    }

    let pool: DatabasePool
    let verifier: NoteVerifier?
    private let state = Mutex(State())
    /// Held by a commit and by an integrity check, so a check never replaces the log while a batch extends it.
    let writer = Mutex(())

    /// Opens (creating it 0600, in a 0700 directory if missing, and migrating) the database at `path`, then checks its integrity; `verifier` (the origin's
    /// key) checks stored checkpoint signatures.
    public init(path: String, verifier: NoteVerifier?) throws(StoreError) {
        self.verifier = verifier
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .database("\(directory): \(error.localizedDescription)")
        }
        // Created 0600 before SQLite opens it: its -wal and -shm files take the same permissions.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .database("\(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw .database("\(error)")
        }
        try verifyIntegrity()
    }

    /// Replaces the in-memory log and the integrity verdict (after a check).
    func stateReplace(tree: MerkleTree, problems: [String], entriesByAccount: [String: [Int]]) {
        state.withLock { state in
            state.tree = tree
            state.broken = problems
            state.entriesByAccount = entriesByAccount
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE entries (
                    idx INTEGER PRIMARY KEY NOT NULL,
                    committed_at INTEGER NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    request_digest BLOB NOT NULL,
                    leaf BLOB NOT NULL,
                    leaf_hash BLOB NOT NULL
                );
                CREATE TABLE postings (
                    entry INTEGER NOT NULL REFERENCES entries(idx),
                    position INTEGER NOT NULL,
                    account TEXT NOT NULL,
                    side INTEGER NOT NULL,
                    amount INTEGER NOT NULL,
                    PRIMARY KEY (entry, position)
                );
                CREATE INDEX postings_by_account ON postings(account, entry);
                CREATE TABLE balances (
                    account TEXT PRIMARY KEY NOT NULL,
                    balance INTEGER NOT NULL
                );
                CREATE TABLE checkpoints (
                    size INTEGER PRIMARY KEY NOT NULL,
                    root BLOB NOT NULL,
                    note TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                """)
        }
        // Tokens. Postings live only in the entries' canonical bytes (the leaves): the per-account index of entries is
        // rebuilt from them in memory on open, so a commit writes one row per transfer.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                CREATE TABLE api_tokens (
                    hash BLOB PRIMARY KEY NOT NULL,
                    scope TEXT NOT NULL,
                    label TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                DROP INDEX postings_by_account;
                DROP TABLE postings;
                """)
        }
        // Collaborator split rules (validated by the control module before they are stored), versioned by the time
        // they take effect.
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                CREATE TABLE split_rules (
                    content TEXT NOT NULL,
                    effective_from INTEGER NOT NULL,
                    shares TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (content, effective_from)
                );
                """)
        }
        // Artists' payout settings (validated by the control module before they are stored).
        migrator.registerMigration("v4") { db in
            try db.execute(sql: """
                CREATE TABLE payout_settings (
                    artist TEXT PRIMARY KEY NOT NULL,
                    method TEXT NOT NULL,
                    account_name TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    bic TEXT,
                    minimum INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    tax_country TEXT NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                """)
        }
        // Write-once records the royalty rules keep beside the log (payout run plans, delivery reports, imported
        // statements): the first body stored under a kind and id is the one kept.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE documents (
                    kind TEXT NOT NULL,
                    id TEXT NOT NULL,
                    body BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (kind, id)
                );
                """)
        }
        return migrator
    }

    /// Entries committed.
    public var size: Int { state.withLock { $0.tree.size } }

    /// Problems found by the last integrity check (writes are refused while there are any).
    public var integrityProblems: [String] { state.withLock { $0.broken } }

    public func root(size: Int) -> MerkleHash { state.withLock { $0.tree.root(size: size) } }

    /// Up to `limit` indexes of entries posting to `account`, after entry `after`, in order.
    func entryIndexes(of account: String, after: Int, limit: Int) -> [Int] {
        state.withLock { state in
            guard let all = state.entriesByAccount[account] else { return [] }
            var low = 0, high = all.count
            while low < high {
                let middle = (low + high) / 2
                if all[middle] <= after { low = middle + 1 } else { high = middle }
            }
            return Array(all[low..<min(all.count, low + limit)])
        }
    }

    /// The indexes, in order and without repeats, of the entries below `size` that post to an account whose name starts
    /// with `prefix` (from the in-memory per-account index, without reading the log).
    func entryIndexes(accountPrefix prefix: String, below size: Int) -> [Int] {
        state.withLock { state in
            var found: Set<Int> = []
            for (account, indexes) in state.entriesByAccount where account.hasPrefix(prefix) {
                found.formUnion(indexes.prefix { $0 < size })
            }
            return found.sorted()
        }
    }

    /// The index of the first entry whose leaf hash is `leafHash`, if it is in the log (a scan of the in-memory leaves).
    public func index(ofLeafHash leafHash: MerkleHash) -> Int? { state.withLock { $0.tree.firstIndex(ofLeafHash: leafHash) } }

    public func inclusionProof(index: Int, size: Int) throws(StoreError) -> [MerkleHash] {
        do {
            return try state.withLock { try $0.tree.inclusionProof(index: index, size: size) }
        } catch {
            throw .invalidRange("\(error)")
        }
    }

    public func consistencyProof(from oldSize: Int, to newSize: Int) throws(StoreError) -> [MerkleHash] {
        do {
            return try state.withLock { try $0.tree.consistencyProof(from: oldSize, to: newSize) }
        } catch {
            throw .invalidRange("\(error)")
        }
    }

    /// Commits `transfers` in one SQLite transaction, in order: each is committed, found to be a retry of an earlier
    /// request (its original entry), or refused (idempotency conflict, negative balance) without affecting the
    /// others. Returns once the transaction is durable.
    public func commit(_ transfers: [Transfer], at time: Int64) throws(StoreError) -> [Result<LedgerBook.Outcome, LedgerError>] {
        try writer.withLock { _ throws(StoreError) in try commitHoldingWriter(transfers, at: time) }
    }

    private func commitHoldingWriter(_ transfers: [Transfer], at time: Int64) throws(StoreError) -> [Result<LedgerBook.Outcome, LedgerError>] {
        let (broken, start) = state.withLock { ($0.broken, $0.tree.size) }
        guard broken.isEmpty else { throw .integrity(broken) }
        var results: [Result<LedgerBook.Outcome, LedgerError>] = []
        var newLeaves: [MerkleHash] = []
        var newPostings: [(account: String, entry: Int)] = []
        do {
            try pool.write { db in
                let findKey = try db.cachedStatement(sql: "SELECT request_digest, leaf FROM entries WHERE idempotency_key = ?")
                let readBalance = try db.cachedStatement(sql: "SELECT balance FROM balances WHERE account = ?")
                let insertEntry = try db.cachedStatement(
                    sql: "INSERT INTO entries (idx, committed_at, idempotency_key, request_digest, leaf, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)")
                let writeBalance = try db.cachedStatement(
                    sql: "INSERT INTO balances (account, balance) VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET balance = excluded.balance")
                var next = UInt64(start)
                var batchKeys: [String: LedgerEntry] = [:]
                // Balances as of the batch so far: read once, written once per account when the batch ends.
                var balances: [String: Int64] = [:]
                var changed: Set<String> = []
                for transfer in transfers {
                    let digest = EntryEncoding.requestDigest(transfer)
                    if let original = batchKeys[transfer.idempotencyKey] {
                        results.append(original.transfer == transfer ? .success(.duplicate(original)) : .failure(.idempotencyConflict(transfer.idempotencyKey)))
                        continue
                    }
                    if let row = try Row.fetchOne(findKey, arguments: [transfer.idempotencyKey]) {
                        let stored: Data = row["request_digest"]
                        if Array(stored) == digest, let original = try? EntryEncoding.decode(Array(row["leaf"] as Data)) {
                            results.append(.success(.duplicate(original)))
                        } else {
                            results.append(.failure(.idempotencyConflict(transfer.idempotencyKey)))
                        }
                        continue
                    }
                    var updated: [(String, Int64)] = []
                    var refusal: LedgerError?
                    for posting in transfer.postings {
                        let account = posting.account.description
                        let current: Int64
                        if let known = balances[account] {
                            current = known
                        } else {
                            current = try Int64.fetchOne(readBalance, arguments: [account]) ?? 0
                            balances[account] = current
                        }
                        do throws(LedgerError) {
                            updated.append((account, try BalanceRule.apply(posting, to: current)))
                        } catch {
                            refusal = error
                            break
                        }
                    }
                    if let refusal {
                        results.append(.failure(refusal))
                        continue
                    }
                    let entry = LedgerEntry(index: next, committedAt: time, transfer: transfer)
                    let leaf = EntryEncoding.encode(entry)
                    let leafHash = RFC9162.leafHash(leaf)
                    try insertEntry.execute(arguments: [Int64(next), time, transfer.idempotencyKey, Data(digest), Data(leaf), Data(leafHash.bytes)])
                    for (account, _) in updated { newPostings.append((account, Int(next))) }
                    for (account, balance) in updated {
                        balances[account] = balance
                        changed.insert(account)
                    }
                    batchKeys[transfer.idempotencyKey] = entry
                    newLeaves.append(leafHash)
                    results.append(.success(.committed(entry)))
                    next += 1
                }
                for account in changed.sorted() {
                    try writeBalance.execute(arguments: [account, balances[account]!])
                }
            }
        } catch {
            throw .database("\(error)")
        }
        state.withLock { state in
            for leaf in newLeaves { state.tree.append(leafHash: leaf) }
            for posting in newPostings { state.entriesByAccount[posting.account, default: []].append(posting.entry) }
        }
        return results
    }

    /// Entries `[from, to)` in order.
    public func entries(from: Int, to: Int) throws(StoreError) -> [LedgerEntry] {
        guard from >= 0, from <= to, to <= size else { throw .invalidRange("[\(from), \(to)) outside [0, \(size))") }
        do {
            return try pool.read { db in
                try Data.fetchAll(db, sql: "SELECT leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", arguments: [from, to])
                    .map { try EntryEncoding.decode(Array($0)) }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The balance of an account (0 if it never moved).
    public func balance(_ account: Account) throws(StoreError) -> Int64 {
        do {
            return try pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT balance FROM balances WHERE account = ?", arguments: [account.description]) ?? 0
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Stores a signed checkpoint of the first `size` entries.
    public func saveCheckpoint(_ note: SignedNote, size: Int, root: MerkleHash, at time: Int64) throws(StoreError) {
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [size, Data(root.bytes), note.rendered, time])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The stored checkpoint of exactly `size` entries, if one was issued.
    public func checkpoint(size: Int) throws(StoreError) -> SignedNote? {
        do {
            return try pool.read { db in
                try String.fetchOne(db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [size]).map { try SignedNote(parsing: $0) }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The size of the latest stored checkpoint and when it was made (milliseconds since the epoch), if any.
    public func latestCheckpointTime() throws(StoreError) -> (size: Int, createdAt: Int64)? {
        do {
            return try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT size, created_at FROM checkpoints ORDER BY size DESC LIMIT 1") else { return nil }
                return (row["size"], row["created_at"])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The latest stored checkpoint (size and signed note), if any.
    public func latestCheckpoint() throws(StoreError) -> (size: Int, note: SignedNote)? {
        do {
            return try pool.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1") else { return nil }
                return (row["size"], try SignedNote(parsing: row["note"]))
            }
        } catch {
            throw .database("\(error)")
        }
    }
}
