import Dispatch

/// Runs tasks on Dispatch's global queue rather than the cooperative pool. Tests that run nodes inside the test
/// process give them this preference: the cooperative pool has one thread per core, and other suites block those
/// threads (waiting on processes, on sockets), which would otherwise starve a node's start-up for seconds.
public final class DispatchTaskExecutor: TaskExecutor {
    public static let shared = DispatchTaskExecutor()
    private let queue = DispatchQueue(label: "edgenode.tests.task-executor", attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
