// Training data (docs/RMT.md §8.7): reading DATA.npz against an RMT, every refusal, and the rows of each step
// against fixtures/training (file order, as the PyTorch ground truth took them) and the pinned shuffle.
import Checkpoints
import ConvertKit
import Foundation
import Models
import TensorCore
import Testing
import TestSupport
@testable import RMT

/// Writes `.npz` files of chosen tensors into a temporary folder.
struct DataFiles {
    let folder: String

    init() throws { folder = try Fixtures.temporaryFolder() }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// `name.npz` holding `tensors`.
    func write(_ name: String, _ tensors: [(String, Tensor)]) throws -> String {
        let path = "\(folder)/\(name).npz"
        try NPZWriter.write(
            tensors.map { TensorSource(name: $0.0, tensor: $0.1) }, to: path,
            options: NPZWriter.Options(overwrite: true))
        return path
    }
}

func int64Tensor(_ values: [Int], _ shape: Shape) throws -> Tensor {
    try Tensor(dtype: .i64, shape: shape, bytes: values.map { Int64($0) }.withUnsafeBytes { Array($0) })
}

func int32Tensor(_ values: [Int], _ shape: Shape) throws -> Tensor {
    try Tensor(dtype: .i32, shape: shape, bytes: values.map { Int32($0) }.withUnsafeBytes { Array($0) })
}

func boolTensor(_ values: [Bool], _ shape: Shape) throws -> Tensor {
    try Tensor(dtype: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
}

/// `fixtures/training/<variant>/expected.json`: the rows of each run's steps and each gradient case's loss.
struct TrainingExpected: Decodable {
    struct Run: Decodable {
        let name: String
        let batch_size: Int
        let rows: [[Int]]
    }
    struct Case: Decodable {
        let name: String
        let rows: [Int]
        let loss: Double
        let k2: Int?
    }
    let runs: [Run]
    let gradient_cases: [Case]

    static func load(_ variant: String) throws -> TrainingExpected {
        try JSONDecoder().decode(
            TrainingExpected.self,
            from: Data(try Fixtures.bytes(Fixtures.path("training/\(variant)/expected.json"))))
    }
}

@Suite("training data: DATA.npz read, checked and batched")
struct TrainingDataTests {
    static let decoder = Fixtures.path("training/decoder")
    static let encoder = Fixtures.path("training/encoder")

    @Test("the decoder fixture's data.npz reads as [5, 14] with its mask, labels and labels_mask")
    func decoderFixture() throws {
        let model = try RMTModel.load(folder: Self.decoder)
        #expect(
            TrainingDataRequirements(model)
                == TrainingDataRequirements(variant: .decoder, vocabularySize: 64, memoryTokens: 3))
        let data = try TrainingData.read("\(Self.decoder)/data.npz", for: model)
        let archive = try NPZArchive(path: "\(Self.decoder)/data.npz")
        #expect(data.rowCount == 5 && data.rowLength == 14 && data.variant == .decoder && data.hasLabels)
        #expect(data.inputIds == (try archive.tensor(named: "input_ids").int64Values().map { Int($0) }))
        #expect(data.labels == (try archive.tensor(named: "labels").int64Values().map { Int($0) }))
        #expect(data.attentionMask == (try archive.tensor(named: "attention_mask").floatValues()))
        #expect(data.labelsMask == (try archive.tensor(named: "labels_mask").int64Values().map { $0 != 0 }))
        #expect(data.notes.isEmpty)
    }

    @Test(
        "file order: step i takes rows (i·B + r) mod N, as fixtures/training/README.md spells it and every run took them"
    )
    func fileOrder() throws {
        let schedule = try BatchSchedule(rowCount: 5, batchSize: 2)
        #expect((0..<5).map(schedule.rows(step:)) == [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]])
        for variant in ["decoder", "encoder"] {
            for run in try TrainingExpected.load(variant).runs {
                let s = try BatchSchedule(rowCount: 5, batchSize: run.batch_size)
                #expect(run.rows.indices.map(s.rows(step:)) == run.rows, "\(variant) \(run.name)")
            }
        }
        // A batch larger than the data wraps around within the step.
        #expect(try BatchSchedule(rowCount: 5, batchSize: 7).rows(step: 1) == [2, 3, 4, 0, 1, 2, 3])
        #expect(try BatchSchedule(rowCount: 5, batchSize: 2).epoch(ofStep: 7) == 2)
        #expect(throws: RMTError("batch-size", "must be at least 1, got 0")) {
            try BatchSchedule(rowCount: 5, batchSize: 0)
        }
    }

    @Test("a batch's loss is the PyTorch float64 loss of those rows (decoder: plain and left-padded; encoder)")
    func batchLosses() throws {
        for variant in ["decoder", "encoder"] {
            let folder = variant == "decoder" ? Self.decoder : Self.encoder
            let model = try RMTModel.load(folder: folder)
            let data = try TrainingData.read("\(folder)/data.npz", for: model)
            for c in try TrainingExpected.load(variant).gradient_cases where (c.k2 ?? -1) == -1 {
                let batch = try data.inputs(rows: c.rows)
                #expect(batch.batch == c.rows.count && batch.length == data.rowLength)
                let out = try model.run(batch, keepLogits: false)
                // The folder has sum_loss false; the `sum_loss` case is the mean of the step losses.
                let losses = out.segmentLosses ?? []
                let loss = c.name == "sum_loss" ? losses.reduce(0, +) / Double(losses.count) : try #require(out.loss)
                #expect(abs(loss - c.loss) <= 1e-4, "\(variant) \(c.name): \(loss) vs \(c.loss)")
            }
        }
    }

    @Test("a batch gathers its rows' ids, masks and labels in batch order")
    func gathering() throws {
        let model = try RMTModel.load(folder: Self.decoder)
        let data = try TrainingData.read("\(Self.decoder)/data.npz", for: model)
        let schedule = try data.schedule(batchSize: 2)
        let batch = try data.batch(step: 2, schedule: schedule)  // rows 4, 0
        let T = data.rowLength
        #expect(batch.ids.values == Array(data.inputIds[(4 * T)..<(5 * T)] + data.inputIds[0..<T]))
        #expect(batch.labels == Array(data.labels[(4 * T)..<(5 * T)] + data.labels[0..<T]))
        #expect(
            batch.attentionMask?.values == Array(data.attentionMask![(4 * T)..<(5 * T)] + data.attentionMask![0..<T]))
        #expect(batch.labelsMask?.values == Array(data.labelsMask![(4 * T)..<(5 * T)] + data.labelsMask![0..<T]))
        #expect(throws: RMTError("rows", "row 5 is outside the data's rows 0..<5")) { try data.inputs(rows: [0, 5]) }
        #expect(throws: RMTError("rows", "a batch needs at least one row")) { try data.inputs(rows: []) }
        let encoder = try RMTModel.load(folder: Self.encoder)
        let classes = try TrainingData.read("\(Self.encoder)/data.npz", for: encoder)
        #expect(try classes.inputs(rows: [3, 1]).labels == [classes.labels[3], classes.labels[1]])
        #expect(classes.notes == ["attention_mask: the encoder ignores it and masks padding by id (docs/RMT.md §3.4)"])
    }

    @Test(
        "shuffled: each epoch is a permutation, step i depends only on (seed, i), pinned against the Python generator")
    func shuffled() throws {
        let fixture = try ShuffleFixture.load()
        let pinned = fixture.shuffled_batches
        let schedule = try BatchSchedule(
            rowCount: pinned.rows, batchSize: pinned.batch_size, order: .shuffled(seed: UInt64(pinned.seed)!))
        #expect(pinned.steps.indices.map(schedule.rows(step:)) == pinned.steps)
        for p in fixture.permutations {
            let s = try BatchSchedule(rowCount: p.count, batchSize: 1, order: .shuffled(seed: UInt64(p.seed)!))
            #expect(s.permutation(epoch: p.stream) == p.permutation)
        }
        // Any step computed alone equals the same step of a walk through the epochs, and epochs are permutations.
        let big = try BatchSchedule(rowCount: 37, batchSize: 8, order: .shuffled(seed: 1234))
        let walk = (0..<4).flatMap { big.permutation(epoch: $0) }  // the epochs laid end to end
        #expect((0..<18).flatMap(big.rows(step:)) == Array(walk[0..<144]))
        for epoch in 0..<4 { #expect(big.permutation(epoch: epoch).sorted() == Array(0..<37)) }
        #expect(big.permutation(epoch: 0) != big.permutation(epoch: 1))
        let again = try BatchSchedule(rowCount: 37, batchSize: 8, order: .shuffled(seed: 1234))
        let other = try BatchSchedule(rowCount: 37, batchSize: 8, order: .shuffled(seed: 1235))
        #expect((0..<20).map(again.rows(step:)) == (0..<20).map(big.rows(step:)))
        #expect((0..<20).map(other.rows(step:)) != (0..<20).map(big.rows(step:)))
    }

    @Test("make-task's data trains an init-gpt2 → wrap RMT: it reads, and a batch scores exactly the answer tokens")
    func taskData() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var request = MakeTaskRequest(kind: .copy, output: "\(dir)/copy.npz")
        request.samples = 6
        _ = try makeTask(request)
        var settings = GPT2Initialization(layers: 1, hidden: 16, heads: 2, vocabularySize: 10, positions: 12)
        settings.seed = 2
        _ = try initGPT2(settings, output: "\(dir)/gpt2", force: false)
        var options = WrapOptions(memoryTokens: 4)
        options.segmentSize = 4
        _ = try wrap(try Checkpoint.open("\(dir)/gpt2"), output: "\(dir)/rmt", options: options)
        let model = try RMTModel.load(folder: "\(dir)/rmt")
        let data = try TrainingData.read("\(dir)/copy.npz", for: model)
        #expect(data.rowCount == 6 && data.rowLength == 11 && data.hasLabels && data.notes.isEmpty)
        let batch = try data.batch(step: 1, schedule: try data.schedule(batchSize: 4))  // rows 4, 5, 0, 1
        #expect(batch.batch == 4 && batch.labels?.filter { $0 != -100 }.count == 4 * 5)
        #expect(try model.loss(batch) == model.run(batch, keepLogits: false).loss)
        // Retrieval needs 12 ids: a model of 10 refuses its data, naming the key.
        request = MakeTaskRequest(kind: .retrieval, output: "\(dir)/retrieval.npz")
        request.samples = 50
        _ = try makeTask(request)
        let error = #expect(throws: CheckpointError.self) { try TrainingData.read("\(dir)/retrieval.npz", for: model) }
        #expect(error?.tensor == "input_ids" && error?.description.contains("must be in 0..<10") == true)
    }
}

/// The shuffle sections of `fixtures/rmt/seeded_generator.json`.
struct ShuffleFixture: Decodable {
    struct Permutation: Decodable {
        let seed: String
        let stream: Int
        let count: Int
        let permutation: [Int]
    }
    struct Batches: Decodable {
        let seed: String
        let rows: Int
        let batch_size: Int
        let steps: [[Int]]
    }
    let permutations: [Permutation]
    let shuffled_batches: Batches

    static func load() throws -> ShuffleFixture {
        try JSONDecoder().decode(
            ShuffleFixture.self, from: Data(try Fixtures.bytes(Fixtures.path("rmt/seeded_generator.json"))))
    }
}
