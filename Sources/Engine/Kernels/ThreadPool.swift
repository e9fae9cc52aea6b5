#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A small pool of persistent threads for splitting kernels over the cores.
///
/// Decode runs a few hundred short parallel loops per token, so waking threads through the OS
/// each time would cost more than the work. Workers spin briefly on a generation counter after
/// each job and only then sleep on a condition variable (so they give the cores back to
/// OpenBLAS during prefill). The calling thread takes part in every job.
public final class ThreadPool: @unchecked Sendable {
    public static let shared = ThreadPool(threadCount: ThreadPool.defaultThreadCount)

    /// Threads used by default: the cores this process may use.
    public static var defaultThreadCount: Int {
        if let v = getenv("TUNE_THREADS").flatMap({ Int(String(cString: $0)) }), v > 0 { return v }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    public let threadCount: Int
    private let generation = Atomic<Int>(0)
    /// Which task to hand out next, packed with its job so that a late worker can never claim
    /// a task of a job other than the one it read: bits 40-63 job number, 20-39 task count,
    /// 0-19 next task index.
    private let claim = Atomic<UInt64>(0)
    private var jobNumber: UInt64 = 0
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private var job: ((Int) -> Void)? = nil
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var threads: [pthread_t] = []
    private let busy = Atomic<Bool>(false)

    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for index in 1..<self.threadCount {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(WorkerStart(pool: self, index: index))
            pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.workerLoop()
                return nil
            }, box.toOpaque())
            threads.append(thread)
        }
    }

    private final class WorkerStart {
        let pool: ThreadPool
        let index: Int
        init(pool: ThreadPool, index: Int) { self.pool = pool; self.index = index }
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool; returns when all are done.
    /// Nested calls (from inside a body) run serially on the calling thread.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        precondition(count < 1 << 20, "parallelFor: too many tasks")
        if count == 1 || threadCount == 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            jobNumber = (jobNumber &+ 1) & 0xFF_FFFF
            finished.store(0, ordering: .relaxed)
            claim.store(jobNumber << 40 | UInt64(count) << 20, ordering: .releasing)
            generation.add(1, ordering: .releasing)
            if sleepers.load(ordering: .acquiring) > 0 {
                pthread_mutex_lock(&mutex)
                pthread_cond_broadcast(&condition)
                pthread_mutex_unlock(&mutex)
            }
            runTasks(jobNumber)
            var spins = 0
            while finished.load(ordering: .acquiring) < count {
                spins += 1
                if spins > 1 << 16 { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Splits 0..<total into contiguous ranges (each at least `minimum` long, a few per thread
    /// so that a thread slowed by the host takes fewer) and runs `body` on them in parallel.
    public func parallelRanges(_ total: Int, minimum: Int = 1, _ body: (Range<Int>) -> Void) {
        if total <= 0 { return }
        let parts = max(1, min(threadCount * 4, total / max(1, minimum)))
        if parts == 1 { body(0..<total); return }
        parallelFor(parts) { p in
            let lo = total * p / parts, hi = total * (p + 1) / parts
            if lo < hi { body(lo..<hi) }
        }
    }

    private func runTasks(_ number: UInt64) {
        var v = claim.load(ordering: .acquiring)
        while true {
            guard v >> 40 == number else { return }
            let count = (v >> 20) & 0xF_FFFF, index = v & 0xF_FFFF
            guard index < count else { return }
            let (exchanged, original) = claim.compareExchange(expected: v, desired: v + 1, ordering: .acquiringAndReleasing)
            if !exchanged { v = original; continue }
            // The job cannot change while a task of it is claimed and unfinished.
            job!(Int(index))
            finished.add(1, ordering: .releasing)
            v = claim.load(ordering: .acquiring)
        }
    }

    private func workerLoop() {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins < 200_000 {
                    current = generation.load(ordering: .acquiring)
                    continue
                }
                pthread_mutex_lock(&mutex)
                sleepers.add(1, ordering: .releasing)
                current = generation.load(ordering: .acquiring)
                while current == seen {
                    pthread_cond_wait(&condition, &mutex)
                    current = generation.load(ordering: .acquiring)
                }
                sleepers.subtract(1, ordering: .releasing)
                pthread_mutex_unlock(&mutex)
            }
            seen = current
            runTasks(claim.load(ordering: .acquiring) >> 40)
        }
    }
}
