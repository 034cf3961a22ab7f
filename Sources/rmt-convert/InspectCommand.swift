import ArgumentParser
import ConvertKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List the tensors, parameters, metadata and architecture of a checkpoint.",
        discussion: "Reads only headers and indexes: inspecting a multi-gigabyte file takes milliseconds.")

    @Argument(help: "A weights file or a checkpoint folder.")
    var path: String

    @Option(
        help: "Read the file as this format instead of guessing from the extension (safetensors, npz, npy, h5, torch).")
    var format: CheckpointFormat?

    @Flag(help: "Print a JSON report (stable key order) instead of a table.")
    var json = false

    func run() throws {
        try reportingErrors {
            let report = try inspectCheckpoint(path, format: format)
            printOut(json ? try report.json() : report.table())
        }
    }
}
