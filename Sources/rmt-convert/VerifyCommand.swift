import ArgumentParser
import ConvertKit

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run a checkpoint on a reference fixture and compare its outputs with PyTorch's.",
        discussion: """
            DIR holds fixture.json (architecture, outputs to compare, tolerance), inputs.safetensors and \
            expected.safetensors, as written by tools/make_model_fixtures.py. Prints the max abs and max relative \
            error of each output; exits with status 1 when any max abs error exceeds the tolerance.
            """)

    @Argument(help: "The checkpoint folder (config.json and weights).")
    var model: String

    @Option(help: "The fixture folder.")
    var fixture: String

    @Option(help: "Run this architecture instead of the one fixture.json names.")
    var architecture: ModelArchitecture?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        var passed = false
        try reportingErrors {
            let report = try verifyCheckpoint(model, fixture: fixture, architecture: architecture)
            printOut(json ? try encodeJSON(report) : report.text)
            passed = report.passed
        }
        if !passed { throw ExitCode.failure }
    }
}
