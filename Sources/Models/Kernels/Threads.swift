// How many cores the kernels use: OpenBLAS's GEMM threads and the row-parallel loops of the forward pass.
import CKernels
import Dispatch
import Synchronization

extension Kernels {
    /// Threads of the row-parallel loops; 0 until `setThreadCount` is called (then OpenBLAS's count is used).
    private static let loopThreads = Atomic<Int>(0)

    /// Sets the number of threads of OpenBLAS and of the row-parallel loops (`parallelRows`).
    /// Without a call, both follow OpenBLAS's own default (`OPENBLAS_NUM_THREADS`, or one per core).
    /// - Throws: `ModelError(.system)` when OpenBLAS cannot be loaded (`loadBLAS`).
    public static func setThreadCount(_ n: Int) throws {
        try loadBLAS()
        ckernels_blas_set_threads(Int32(max(1, n)))
        loopThreads.store(max(1, n), ordering: .relaxed)
    }

    /// Loads OpenBLAS unless it is loaded already. Model loading calls this, so that a machine without the library
    /// gets an error rather than an abort at the first matrix product.
    /// - Throws: `ModelError(.system)` naming the library and how to install it.
    public static func loadBLAS() throws {
        if let why = ckernels_blas_load() {
            throw ModelError(
                .system, file: "libopenblas.so.0",
                "OpenBLAS cannot be loaded (\(String(cString: why))); install it: apt-get install libopenblas0, or make deps"
            )
        }
    }

    /// The number of threads the kernels use now.
    public static var threadCount: Int {
        let n = loopThreads.load(ordering: .relaxed)
        return n > 0 ? n : max(1, Int(ckernels_blas_threads()))
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
