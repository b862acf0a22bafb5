import Foundation

/// Runs each job of the tasks that prefer it on a thread of its own. Process tests give their bodies this
/// preference: they wait on processes and sockets with blocking calls, and other suites keep the cooperative pool
/// (one thread per core) busy with long computations, so a test that must answer in time never queues behind them.
public final class ThreadPerJobExecutor: TaskExecutor {
    public static let shared = ThreadPerJobExecutor()

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let thread = Thread { job.runSynchronously(on: executor) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
