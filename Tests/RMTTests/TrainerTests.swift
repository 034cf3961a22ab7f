// The training engine on its own terms: memory held by BPTT with and without k2, trained folders that every RMT
// path opens, resuming bit for bit, seeded dropout, a copy task whose loss falls, and the refusals.
import Checkpoints
import Foundation
import Models
import Testing
import TestSupport

@testable import RMT

@Suite("Training engine")
struct TrainerTests {
    /// The decoder fixture with `max_n_segments` set to `K`.
    func decoder(maxSegments K: Int? = nil) throws -> RMTModel {
        let model = try RMTModel.load(folder: Fixtures.path("training/decoder"))
        guard let K else { return model }
        var configuration = model.configuration
        configuration.maxNSegments = K
        return RMTModel(model, configuration: configuration, network: model.network)
    }

    /// `B` rows of `T` ids from a seeded generator, ids in `range`.
    func randomIds(batch B: Int, length T: Int, in range: Range<Int>, seed: UInt64) -> [Int] {
        var g = SeededGenerator(seed: seed)
        return (0..<(B * T)).map { _ in range.lowerBound + Int(g.next() % UInt64(range.count)) }
    }

    @Test("with k2 = 1 BPTT holds two segments' activations at a time, with full BPTT all twelve")
    func memoryGrowsWithDepth() throws {
        let batch = try RMTInputs(ids: randomIds(batch: 2, length: 48, in: 0..<63, seed: 1), batch: 2, length: 48)
        var results: [Int: TrainingStepResult] = [:]
        for k2 in [-1, 1] {
            var options = TrainingOptions()
            options.bpttDepth = k2
            let trainer = try RMTTrainer(model: try decoder(maxSegments: 12), options: options)
            results[k2] = try trainer.step(batch)
        }
        let (full, truncated) = (results[-1]!, results[1]!)
        #expect(full.peakTapes == 12 && truncated.peakTapes == 2)
        // Every segment's tape has the same size here (12 segments of 4 tokens).
        #expect(
            full.peakTapeBytes == 6 * truncated.peakTapeBytes, "\(full.peakTapeBytes) vs \(truncated.peakTapeBytes)")
        #expect(truncated.peakTapeBytes > 0)
        #expect(full.loss == truncated.loss, "truncation changes gradients, not the loss")
    }

    @Test("only the memory trains under freeze-backbone, and k2 groups that cannot reach it keep no tapes")
    func freezeBackbone() throws {
        var options = TrainingOptions()
        options.freezeBackbone = true
        options.bpttDepth = 1
        let trainer = try RMTTrainer(model: try decoder(maxSegments: 12), options: options)
        #expect(trainer.trainedParameterNames == ["memory_cell.memory"])
        let batch = try RMTInputs(ids: randomIds(batch: 2, length: 48, in: 0..<63, seed: 2), batch: 2, length: 48)
        let (_, gradients) = try trainer.gradients(for: batch)
        #expect(Array(gradients.keys) == ["memory_cell.memory"])
        #expect(gradients["memory_cell.memory"]!.contains { $0 != 0 })
        #expect(
            try trainer.step(batch).peakTapes == 2,
            "segments 0 and 1 reach the memory; the others only the frozen backbone")

        let encoder = try RMTTrainer(
            model: try RMTModel.load(folder: Fixtures.path("training/encoder")), options: options.with(bpttDepth: nil))
        #expect(encoder.trainedParameterNames == ["model.bert.embeddings.word_embeddings.weight"])
    }

    @Test("a trained folder is a normal RMT folder: it loads, and run reproduces the trainer's loss")
    func trainedFolderRuns() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = TrainingOptions()
        options.learningRate = 1e-2
        let trainer = try RMTTrainer(model: try decoder(), options: options)
        let fixture = try TrainingFixture("decoder")
        for rows in [[0, 1], [2, 3], [4, 0]] { try trainer.step(try fixture.dataInputs(rows: rows)) }
        let batch = try fixture.dataInputs(rows: [1, 2, 3])
        let files = try trainer.save(to: "\(folder)/out")
        #expect(files.contains("model.safetensors") && files.contains("train_state/state.json"))
        let loaded = try RMTModel.load(folder: "\(folder)/out")
        let loss = try loaded.loss(batch)
        #expect(try trainer.evaluate(batch).loss == loss, "the same weights, the same inference forward")
        let stepLoss = try trainer.gradients(for: batch).loss  // the training forward
        #expect(abs(stepLoss - loss) <= 1e-6 * loss, "training forward \(stepLoss), run \(loss)")
        // The tied head is written as a full copy, equal to wte; every parameter round-trips bit for bit.
        let archive = try SafetensorsArchive(path: "\(folder)/out/model.safetensors")
        #expect(archive.tensorNames.count == 30)
        #expect(
            try archive.tensor(named: "memory_cell.model.lm_head.weight").isBitwiseEqual(
                to: archive.tensor(named: "memory_cell.model.transformer.wte.weight")))
        for name in trainer.parameterNames {
            #expect(try archive.tensor(named: name).floatValues() == trainer.parameter(named: name)!, "\(name)")
        }
        #expect(
            try RMTTrainer(model: loaded).parameter(named: "memory_cell.memory")
                == trainer.parameter(named: "memory_cell.memory"))
    }

    @Test("a resumed run equals the uninterrupted one bit for bit (AdamW, clipping, schedule, dropout)")
    func resumeIsBitIdentical() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = TrainingOptions()
        options.learningRate = 1e-2
        options.clipNorm = 1
        options.schedule = .cosine
        options.warmupSteps = 1
        options.totalSteps = 5
        options.dropout = 0.1
        options.seed = 3
        let fixture = try TrainingFixture("decoder")
        let batches = try [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4]].map { try fixture.dataInputs(rows: $0) }
        let whole = try RMTTrainer(model: try decoder(), options: options)
        for (i, b) in batches.enumerated() {
            try whole.step(b)
            if i == 2 { try whole.save(to: "\(folder)/at3") }
        }
        let resumed = try RMTTrainer(resumingFrom: "\(folder)/at3")
        #expect(resumed.completedSteps == 3 && resumed.options == options)
        var frozen = options
        frozen.freezeBackbone = true
        #expect(throws: CheckpointError.self, "other trained tensors than the run's") {
            try RMTTrainer(resumingFrom: "\(folder)/at3", options: frozen)
        }
        for b in batches[3...] { try resumed.step(b) }
        try whole.save(to: "\(folder)/whole")
        try resumed.save(to: "\(folder)/resumed")
        for file in ["model.safetensors", "train_state/optimizer.safetensors", "train_state/state.json"] {
            #expect(
                try Fixtures.bytes("\(folder)/whole/\(file)") == Fixtures.bytes("\(folder)/resumed/\(file)"), "\(file)")
        }
        // A save refuses to replace a checkpoint unless told to.
        #expect(throws: CheckpointError.self) { try whole.save(to: "\(folder)/whole") }
        try whole.save(to: "\(folder)/whole", overwrite: true)
    }

    @Test("dropout draws its masks from the seed and the step: same seed, same loss; another seed, another loss")
    func seededDropout() throws {
        let fixture = try TrainingFixture("decoder")
        let batch = try fixture.dataInputs(rows: [0, 1])
        func loss(dropout: Double, seed: UInt64) throws -> Double {
            var options = TrainingOptions()
            options.dropout = dropout
            options.seed = seed
            return try RMTTrainer(model: try decoder(), options: options).step(batch).loss
        }
        let plain = try loss(dropout: 0, seed: 0)
        #expect(abs(plain - fixture.expected.runs[0].losses[0]) <= 1e-6 * plain, "dropout 0 is torch's eval loss")
        let (a, again, other) = (
            try loss(dropout: 0.3, seed: 1), try loss(dropout: 0.3, seed: 1), try loss(dropout: 0.3, seed: 2)
        )
        #expect(a == again)
        #expect(a != plain && a != other)
    }

    @Test("dropout's gradients are the derivative of the loss with the same masks (finite differences)")
    func dropoutGradients() throws {
        let fixture = try TrainingFixture("encoder")
        var options = TrainingOptions()
        options.dropout = 0.5
        options.seed = 5
        let trainer = try RMTTrainer(model: try fixture.model(), options: options)
        let batch = try fixture.dataInputs(rows: [0, 3])
        let (_, gradients) = try trainer.gradients(for: batch)
        for name in ["model.classifier.weight", "model.bert.encoder.layer.0.output.dense.weight"] {
            let g = gradients[name]!
            let i = g.indices.max { abs(g[$0]) < abs(g[$1]) }!
            let h: Float = 1e-2
            func move(by delta: Float) {
                trainer.updateParameters { p in
                    guard let part = p.parts.first(where: { trainer.stateDictName($0.key) == name }) else { return }
                    p.withUnsafeMutableBufferPointer { $0[part.offset + i] += delta }
                }
            }
            move(by: h)
            let plus = try trainer.gradients(for: batch).loss
            move(by: -2 * h)
            let minus = try trainer.gradients(for: batch).loss
            move(by: h)
            let numeric = (plus - minus) / Double(2 * h)
            #expect(abs(numeric - Double(g[i])) <= 0.02 * abs(Double(g[i])), "\(name)[\(i)]: \(numeric) vs \(g[i])")
        }
    }

    @Test("a few dozen AdamW and SGD steps on a copy task lower the held-out loss (seeded, seconds)")
    func copyTaskLearns() throws {
        // [1] content [1] content, content tokens 2..9; only the copy is scored: 12 tokens, 3 segments of 4.
        func copyBatch(_ n: Int, seed: UInt64) throws -> RMTInputs {
            let content = randomIds(batch: n, length: 5, in: 2..<10, seed: seed)
            var ids: [Int] = [], labels: [Int] = []
            for b in 0..<n {
                let c = Array(content[(b * 5)..<(b * 5 + 5)])
                ids += [1] + c + [1] + c
                labels += [Int](repeating: -100, count: 7) + c
            }
            return try RMTInputs(ids: ids, batch: n, length: 12, labels: labels)
        }
        let held = try copyBatch(64, seed: 100)
        for optimizer in [TrainingOptions.Optimizer.adamw, .sgd] {
            var options = TrainingOptions()
            options.optimizer = optimizer
            options.learningRate = optimizer == .adamw ? 1e-2 : 0.5
            let trainer = try RMTTrainer(model: try decoder(), options: options)
            let before = try trainer.evaluate(held)
            for step in 0..<40 { try trainer.step(try copyBatch(16, seed: UInt64(step))) }
            let after = try trainer.evaluate(held)
            #expect(before.scored == 64 * 5 && after.scored == 64 * 5)
            #expect(after.loss < 0.75 * before.loss, "\(optimizer): held-out loss \(before.loss) → \(after.loss)")
        }
    }

    @Test("refusals: BPTT depth on the encoder, k2 without max_n_segments, bad labels, a non-finite loss")
    func refusals() throws {
        let encoder = try RMTModel.load(folder: Fixtures.path("training/encoder"))
        #expect(throws: RMTError.self) { try RMTTrainer(model: encoder, options: TrainingOptions().with(bpttDepth: 2)) }
        let noK = try decoder()
        var configuration = noK.configuration
        configuration.maxNSegments = nil
        let withoutK = RMTModel(noK, configuration: configuration, network: noK.network)
        #expect(throws: RMTError.self) {
            try RMTTrainer(model: withoutK, options: TrainingOptions().with(bpttDepth: 1))
        }
        let trainer = try RMTTrainer(model: try decoder())
        let before = trainer.parameter(named: "memory_cell.memory")
        #expect(throws: RMTError.self) {
            try trainer.step(try RMTInputs(ids: [1, 2, 3], batch: 1, length: 3, labels: [1, 99, 2]))
        }
        #expect(throws: RMTError.self) {
            try trainer.step(try RMTInputs(ids: [1, 2, 3], batch: 1, length: 3, labels: [1, -100, -100]))
        }
        #expect(trainer.completedSteps == 0 && trainer.parameter(named: "memory_cell.memory") == before)
        var huge = TrainingOptions()
        huge.optimizer = .sgd
        huge.learningRate = 1e30
        let exploding = try RMTTrainer(model: try decoder(), options: huge)
        let batch = try RMTInputs(ids: [1, 2, 3, 4, 5], batch: 1, length: 5)
        try exploding.step(batch)
        #expect(throws: RMTError.self) { for _ in 0..<3 { try exploding.step(batch) } }
        #expect(throws: RMTError.self) {
            try RMTTrainer(model: try decoder(), options: TrainingOptions().with(dropout: 1))
        }
    }
}

extension TrainingOptions {
    func with(bpttDepth: Int?) -> TrainingOptions {
        var o = self
        o.bpttDepth = bpttDepth
        return o
    }

    func with(dropout: Double) -> TrainingOptions {
        var o = self
        o.dropout = dropout
        return o
    }
}
