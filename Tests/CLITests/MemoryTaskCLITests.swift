// make-task and init-gpt2 run as the binary: the copy-task pipeline end to end (init-gpt2 → wrap → run on the
// task's data), JSON summaries, and a usage error (exit 64, the subcommand's usage) for every bad option.
import Foundation
import Testing
import TestSupport
@testable import ConvertKit

@Suite("rmt-convert make-task and init-gpt2, run as a binary")
struct MemoryTaskCLITests {
    @Test("make-task copy → init-gpt2 → wrap → run --labels: a fresh model scores the answers at about ln 12")
    func copyPipeline() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let task = try rmtConvert([
            "make-task", "copy", "--output", "\(dir)/copy.npz", "--samples", "32", "--segment-size", "4",
        ])
        #expect(task.status == 0, "\(task.stderr)")
        #expect(task.stdout.contains("wrote 32 copy rows of 11 tokens to \(dir)/copy.npz"))
        #expect(task.stdout.contains("with --segment-size 4 each row spans 3 segments"))
        let gpt2 = try rmtConvert([
            "init-gpt2", "--vocab", "12", "--positions", "12", "--hidden", "32", "--output", "\(dir)/gpt2", "--seed",
            "1",
        ])
        #expect(gpt2.status == 0, "\(gpt2.stderr)")
        let wrap = try rmtConvert([
            "wrap", "\(dir)/gpt2", "--output", "\(dir)/rmt", "--memory-tokens", "4", "--segment-size", "4",
        ])
        #expect(wrap.status == 0, "\(wrap.stderr)")
        let run = try rmtConvert([
            "run", "\(dir)/rmt", "--input-ids", "\(dir)/copy.npz", "--labels", "\(dir)/copy.npz", "--output",
            "\(dir)/out.npz", "--no-logits",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ran RMT decoder (3 segments, 352 tokens)"))
        let out = try ArchiveRegistry.open("\(dir)/out.npz")
        #expect(Set(out.tensorNames) == ["memory_states", "loss"])
        // Weights of σ 0.02 give nearly uniform predictions over the 12 ids: the loss over the answers is ≈ ln 12.
        let loss = try out.tensor(named: "loss").floatValues()[0]
        #expect(abs(Double(loss) - log(12)) < 0.05, "loss \(loss)")
    }

    @Test("--json summaries parse and carry the layout, the vocabulary and the segments")
    func json() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try rmtConvert([
            "make-task", "retrieval", "--output", "\(dir)/r.npz", "--samples", "8", "--segment-size", "4", "--json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let task = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(task["row_length"] as? Int == 11 && task["vocabulary_size"] as? Int == 12)
        #expect(task["answer_columns"] as? [Int] == [10, 11] && task["segments"] as? Int == 3)
        #expect((task["example_labels"] as? [Int])?.filter { $0 != -100 }.count == 1)
        let g = try rmtConvert(["init-gpt2", "--vocab", "12", "--positions", "8", "--output", "\(dir)/g", "--json"])
        #expect(g.status == 0, "\(g.stderr)")
        let gpt2 = try #require(try JSONSerialization.jsonObject(with: Data(g.stdout.utf8)) as? [String: Any])
        #expect(gpt2["tensor_count"] as? Int == 28 && gpt2["inner"] as? Int == 512)
        #expect(gpt2["c_proj_std"] as? Double == 0.01)
    }

    @Test("an existing output is refused (exit 1, nothing changed) unless --force")
    func existing() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["make-task", "copy", "--output", "\(dir)/c.npz", "--samples", "4"]
        #expect(try rmtConvert(args).status == 0)
        let before = try Fixtures.bytes("\(dir)/c.npz")
        let again = try rmtConvert(args + ["--seed", "2"])
        #expect(again.status == 1 && again.stderr.contains("output already exists; pass --force"))
        #expect(try Fixtures.bytes("\(dir)/c.npz") == before)
        #expect(try rmtConvert(args + ["--seed", "2", "--force"]).status == 0)
        #expect(try Fixtures.bytes("\(dir)/c.npz") != before)
        let model = ["init-gpt2", "--vocab", "12", "--positions", "8", "--output", "\(dir)/g"]
        #expect(try rmtConvert(model).status == 0)
        let refused = try rmtConvert(model)
        #expect(refused.status == 1 && refused.stderr.contains("output already exists"))
    }

    @Test(
        "a bad option is a usage error: exit 64 with the message and the subcommand's usage, nothing written",
        arguments: [
            (["make-task", "copy", "--samples", "0"], "--samples must be at least 1, got 0"),
            (["make-task", "copy", "--length", "0"], "--length must be at least 1, got 0"),
            (["make-task", "copy", "--pairs", "3"], "--pairs does not apply to the copy task"),
            (["make-task", "reverse", "--values", "3"], "--values does not apply to the reverse task"),
            (["make-task", "retrieval", "--length", "3"], "--length does not apply to the retrieval task"),
            (["make-task", "retrieval", "--pairs", "0"], "--pairs must be at least 1, got 0"),
            (["make-task", "retrieval", "--pairs", "6"], "--keys must be at least --pairs (6)"),
            (["make-task", "retrieval", "--values", "1"], "--values must be at least 2"),
            (["make-task", "copy", "--segment-size", "0"], "--segment-size must be at least 1, got 0"),
            (["make-task", "copy", "--samples", "50000000"], "--samples (50000000) × row length 11 would exceed"),
            (["make-task", "copy", "--output-name"], "Unknown option '--output-name'"),
            (["make-task", "shuffle"], "The value 'shuffle' is invalid for '<task>'"),
            (["init-gpt2", "--vocab", "0", "--positions", "8"], "--vocab must be at least 1, got 0"),
            (["init-gpt2", "--vocab", "12", "--positions", "0"], "--positions must be at least 1, got 0"),
            (["init-gpt2", "--vocab", "12", "--positions", "8", "--layers", "0"], "--layers must be at least 1"),
            (
                ["init-gpt2", "--vocab", "12", "--positions", "8", "--heads", "3"],
                "--hidden 128 must be divisible by --heads 3"
            ),
            (["init-gpt2", "--vocab", "12", "--positions", "8", "--inner", "0"], "--inner must be at least 1, got 0"),
            (
                ["init-gpt2", "--vocab", "12", "--positions", "8", "--activation", "gelu2"],
                "--activation gelu2 is not implemented"
            ),
            (
                ["init-gpt2", "--vocab", "12", "--positions", "8", "--initializer-range", "0"],
                "--initializer-range must be a positive number, got 0.0"
            ),
            (["init-gpt2", "--vocab", "12"], "Missing expected argument '--positions <positions>'"),
        ])
    func usage(_ arguments: [String], _ message: String) throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = arguments[0] == "make-task" ? "\(dir)/t.npz" : "\(dir)/model"
        let r = try rmtConvert(arguments + ["--output", output])
        #expect(r.status == 64, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.contains("Usage: rmt-convert \(arguments[0]) "), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("--help explains the layouts, the segments and the evaluation split; init-gpt2's the initialisation")
    func help() throws {
        // ArgumentParser wraps the text to the terminal: compare with line breaks read as spaces.
        func text(_ r: CommandResult) -> String { r.stdout.replacingOccurrences(of: "\n", with: " ") }
        let task = try rmtConvert(["make-task", "--help"])
        #expect(task.status == 0)
        for phrase in [
            "[content ×L] [1] [content ×L]", "a row spans ⌈T / n⌉ segments of n tokens", "--samples 256 --seed 1",
            "pass it to init-gpt2 --vocab",
        ] {
            #expect(text(task).contains(phrase), "make-task --help lacks \(phrase)")
        }
        let gpt2 = try rmtConvert(["init-gpt2", "--help"])
        #expect(gpt2.status == 0)
        for phrase in [
            "normal(0, initializer_range / √(2·layers))", "without lm_head.weight",
            "positions ≥ segment size + 2 × memory tokens",
        ] {
            #expect(text(gpt2).contains(phrase), "init-gpt2 --help lacks \(phrase)")
        }
    }
}
