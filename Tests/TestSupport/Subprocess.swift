// Running the built `rmt-convert` binary and other commands from tests.
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The result of running a command.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// True when the command was killed for running past its time limit.
    public var timedOut = false
    /// The process ended by a signal it did not handle (e.g. SIGKILL) rather than by exiting.
    public var killedBySignal = false
}

/// Bounds on one run: a run past `seconds` is killed (SIGKILL) and reported as `timedOut`, so a hang fails a test
/// instead of hanging it; `addressSpaceBytes` caps the child's virtual memory (`ulimit -v`), so an allocation
/// driven by a hostile file fails inside the child instead of exhausting the machine.
public struct RunLimits: Sendable {
    public var seconds: Double
    public var addressSpaceBytes: Int?

    public init(seconds: Double, addressSpaceBytes: Int? = nil) {
        self.seconds = seconds
        self.addressSpaceBytes = addressSpaceBytes
    }

    /// What the malformed corpus allows one run: 60 s (each takes well under a second) and 4 GiB of address space.
    /// Under AddressSanitizer, whose shadow memory needs terabytes of address space, the memory bound is
    /// ASan's own `max_allocation_size_mb` instead (see `runCommand`).
    public static let corpus = RunLimits(seconds: 60, addressSpaceBytes: 4 << 30)
}

/// True when this test process runs under AddressSanitizer (`make test-asan`); its children do too.
public let runningUnderAddressSanitizer: Bool = dlsym(dlopen(nil, RTLD_NOW), "__asan_init") != nil

/// Runs `executable` with `arguments` (no shell), in `directory`, with `environment` added to this process's, and
/// collects its output.
/// - Parameter limits: time and memory bounds; nil runs unbounded.
public func runCommand(
    _ executable: String, _ arguments: [String], in directory: String? = nil, limits: RunLimits? = nil,
    environment: [String: String] = [:]
) throws -> CommandResult {
    let process = Process()
    if let bytes = limits?.addressSpaceBytes, !runningUnderAddressSanitizer {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(bytes / 1024) && exec \"$0\" \"$@\"", executable] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let bytes = limits?.addressSpaceBytes {
            var environment = ProcessInfo.processInfo.environment
            let asan = environment["ASAN_OPTIONS"].map { $0 + ":" } ?? ""
            environment["ASAN_OPTIONS"] = asan + "max_allocation_size_mb=\(bytes >> 20):allocator_may_return_null=0"
            process.environment = environment
        }
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if !environment.isEmpty {
        process.environment = (process.environment ?? ProcessInfo.processInfo.environment).merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let killed = KillFlag()
    if let seconds = limits?.seconds {
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            if process.isRunning {
                killed.set()
                kill(pid, SIGKILL)
            }
        }
    }
    // Read both pipes fully before waiting so large outputs cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self), timedOut: killed.value,
        killedBySignal: process.terminationReason == .uncaughtSignal)
}

/// A flag set from the timer's thread and read after the process ended.
private final class KillFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.withLock { flag = true } }
    var value: Bool { lock.withLock { flag } }
}

/// The `rmt-convert` binary built next to the test bundle (`swift build --build-tests` builds it).
public func rmtConvertBinary() -> String {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rmt-convert")
            .path,
        "\(Fixtures.root)/.build/debug/rmt-convert",
    ]
    return candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) ?? candidates[1]
}

/// Runs `rmt-convert` with `arguments` from the repository root, `environment` added to this process's.
/// - Parameter limits: time and memory bounds; nil runs unbounded.
public func rmtConvert(
    _ arguments: [String], limits: RunLimits? = nil, environment: [String: String] = [:]
) throws -> CommandResult {
    try runCommand(rmtConvertBinary(), arguments, in: Fixtures.root, limits: limits, environment: environment)
}
