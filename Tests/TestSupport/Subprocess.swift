// Running the built `rmt-convert` binary and other commands from tests.
import Foundation

/// The result of running a command.
public struct CommandResult: Sendable {
    /// The exit status, or the signal's number when `killedBySignal`.
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// The process ended by a signal it did not handle (e.g. SIGKILL) rather than by exiting.
    public var killedBySignal = false
}

/// Runs `executable` with `arguments` (no shell), in `directory`, with `environment` added to this process's, and
/// collects its output.
public func runCommand(
    _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes fully before waiting so large outputs cannot block the child.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self), killedBySignal: process.terminationReason == .uncaughtSignal)
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

/// Runs `rmt-convert` with `arguments`, `environment` added to this process's.
public func rmtConvert(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
    try runCommand(rmtConvertBinary(), arguments, in: Fixtures.root, environment: environment)
}
