// rmt-convert: convert, inspect, wrap and run BERT / GPT-2 / RMT checkpoints.
import ArgumentParser
import ConvertKit
import Foundation

@main
struct RMTConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmt-convert",
        abstract: "Convert BERT and GPT-2 checkpoints between formats and wrap them as Recurrent Memory Transformers.",
        discussion: """
            Formats: safetensors (.safetensors, sharded folders), NumPy (.npz), HDF5 (.h5) and PyTorch (.bin/.pth).
            A checkpoint is a weights file or a Hugging Face style folder (config.json, weights, tokenizer files).
            Exit status: 0 on success, 1 when a file is bad or an operation fails, 64 for invalid arguments.
            """,
        version: toolVersion,
        subcommands: [
            InspectCommand.self, ConvertCommand.self, WrapCommand.self, RunCommand.self, VerifyCommand.self,
            TokenizeCommand.self, BenchCommand.self, InitGPT2Command.self, MakeTaskCommand.self, TrainCommand.self,
        ]
    )
}

/// Runs `body`, turning a thrown error into one line on stderr and exit status 1, and a `UsageError` (a flag that
/// does not apply to this checkpoint) into an argument error, exit status 64.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as UsageError {
        throw ValidationError(error.description)
    } catch {
        FileHandle.standardError.write((errorLine(error) + "\n").data(using: .utf8)!)
        throw ExitCode.failure
    }
}

extension CheckpointFormat: ExpressibleByArgument {}

/// Writes `text` to stdout without buffering surprises.
func printOut(_ text: String) {
    FileHandle.standardOutput.write(text.data(using: .utf8)!)
}

/// Writes `text` to stderr (notes, warnings, errors).
func printError(_ text: String) {
    FileHandle.standardError.write(text.data(using: .utf8)!)
}
