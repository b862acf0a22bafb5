import NIOPosix

/// Where the control API's blocking work runs: off the event loops, and off NIO's shared thread pool (sized by the
/// cores — two threads here — and shared with every other user of it). `requests` runs the handlers' SQLite work and
/// token checks; `jobs` runs the long ones — a month's close, a payout run — so that however long they take, every
/// other request, token checks included, still finds a thread.
public final class ControlWork: Sendable {
    /// The pools the control module of this process uses unless given others.
    public static let shared = ControlWork(requestThreads: 8, jobThreads: 2)

    private let requests: NIOThreadPool
    private let jobs: NIOThreadPool

    public init(requestThreads: Int, jobThreads: Int) {
        precondition(requestThreads > 0 && jobThreads > 0)
        requests = NIOThreadPool(numberOfThreads: requestThreads)
        jobs = NIOThreadPool(numberOfThreads: jobThreads)
        requests.start()
        jobs.start()
    }

    /// Runs a request's blocking work.
    func request<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await requests.runIfActive { try body() }
    }

    /// Runs a long job (a close, a payout run).
    func job<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await jobs.runIfActive { try body() }
    }
}
