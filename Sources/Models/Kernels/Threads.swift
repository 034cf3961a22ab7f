// How many cores the kernels use: OpenBLAS's GEMM threads and the row-parallel loops of the forward pass.
import COpenBLAS
import Dispatch
import Synchronization

extension Kernels {
    /// Threads of the row-parallel loops; 0 until `setThreadCount` is called (then OpenBLAS's count is used).
    private static let loopThreads = Atomic<Int>(0)

    /// Sets the number of threads of OpenBLAS and of the row-parallel loops (`parallelRows`).
    /// Without a call, both follow OpenBLAS's own default (`OPENBLAS_NUM_THREADS`, or one per core).
    public static func setThreadCount(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
        loopThreads.store(max(1, n), ordering: .relaxed)
    }

    /// The number of threads the kernels use now.
    public static var threadCount: Int {
        let n = loopThreads.load(ordering: .relaxed)
        return n > 0 ? n : max(1, Int(openblas_get_num_threads()))
    }

    /// Calls `body` on disjoint row ranges covering `0..<rows`, on up to `threadCount` threads at once.
    /// Ranges hold at least `minimumRows` rows, so small inputs stay on the calling thread.
    static func parallelRows(_ rows: Int, minimumRows: Int = 16, _ body: (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, rows / max(1, minimumRows)))
        guard chunks > 1 else {
            if rows > 0 { body(0..<rows) }
            return
        }
        inParallel(chunks) { c in
            let start = rows * c / chunks, end = rows * (c + 1) / chunks
            if end > start { body(start..<end) }
        }
    }

    /// Calls `body(0)`, …, `body(threads − 1)` at once, one per thread, and returns when all have returned.
    /// `body` may capture non-Sendable state: callers give each call its own part of it (rows, items taken from
    /// an atomic counter), and nothing outlives the call.
    static func inParallel(_ threads: Int, _ body: (Int) -> Void) {
        guard threads > 1 else {
            if threads == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: threads) { work($0) }
        }
    }
}
