// The training engine against PyTorch (fixtures/training, tools/make_training_fixtures.py): per-parameter gradients
// of the decoder's and the encoder's gradient cases, and the optimiser runs step by step.
import Foundation
import Models
import Testing
import TestSupport

@testable import RMT

@Suite("Training against PyTorch (fixtures/training)")
struct TrainingFixtureTests {
    /// The gradients of a case against torch's float64 ones, max abs error relative to the case's scale.
    func checkGradients(_ fixture: TrainingFixture, _ c: TrainingFixture.GradientCase, model: RMTModel) throws {
        var options = TrainingOptions()
        options.bpttDepth = c.k2
        let trainer = try RMTTrainer(model: model, options: options)
        let (loss, gradients) = try trainer.gradients(for: try fixture.caseInputs(c))
        #expect(abs(loss - c.loss) <= 1e-6 * c.loss, "\(c.name): loss \(loss), torch \(c.loss)")
        #expect(Set(gradients.keys) == Set(fixture.expected.parameters.map(\.name)))
        #expect(
            trainer.parameterNames == fixture.expected.parameters.map(\.name), "state-dict order, tied tensors once")
        for p in fixture.expected.parameters {
            let expected = try TrainingFixture.floats(fixture.gradients, "\(c.name).grad.\(p.name)")
            let error = maxDifference(gradients[p.name] ?? [], expected) / c.grad_max_abs
            #expect(error <= 1e-5, "\(c.name): \(p.name) max abs error \(error) of the case's gradient scale")
        }
    }

    @Test(
        "decoder gradients equal torch's for full BPTT, k2 = 1 and 3, and left padding with labels_mask",
        arguments: ["full_bptt", "k2_1", "k2_3", "left_padding"])
    func decoderGradients(_ name: String) throws {
        let fixture = try TrainingFixture("decoder")
        let c = try #require(fixture.expected.gradient_cases.first { $0.name == name })
        try checkGradients(fixture, c, model: try fixture.model())
    }

    @Test("encoder gradients equal torch's with the last step's loss and with sum_loss", arguments: [false, true])
    func encoderGradients(_ sumLoss: Bool) throws {
        let fixture = try TrainingFixture("encoder")
        let c = try #require(fixture.expected.gradient_cases.first { $0.sum_loss == sumLoss })
        var model = try fixture.model()
        var configuration = model.configuration
        configuration.sumLoss = sumLoss
        model = RMTModel(model, configuration: configuration, network: model.network)
        try checkGradients(fixture, c, model: model)
        // The memory rows 20..22 have gradients of about 1e-4: checked against their own scale too.
        let trainer = try RMTTrainer(model: model)
        let table = try #require(try trainer.gradients(for: try fixture.caseInputs(c)).gradients[wordEmbeddings])
        let expected = try TrainingFixture.floats(fixture.gradients, "\(c.name).grad.\(wordEmbeddings)")
        let rows = (20 * 32)..<(23 * 32)
        let scale = expected[rows].map { Double(abs($0)) }.max()!
        let error = maxDifference(Array(table[rows]), Array(expected[rows])) / scale
        #expect(scale > 1e-5 && error <= 1e-5, "memory rows: max abs error \(error) of their scale \(scale)")
        #expect(table[0..<32].allSatisfy { $0 == 0 }, "the pad row gets exactly 0")
    }

    let wordEmbeddings = "model.bert.embeddings.word_embeddings.weight"

    /// Trains `run` and compares every step with torch: loss, learning rate, gradient norm, every stored parameter;
    /// parameters not stored must keep their initial bits.
    func checkRun(_ fixture: TrainingFixture, _ run: TrainingFixture.Run, tolerance: Double) throws {
        let model = try fixture.model()
        let trainer = try RMTTrainer(model: model, options: TrainingFixture.options(run))
        let initial = Dictionary(
            uniqueKeysWithValues: trainer.parameterNames.map { ($0, trainer.parameter(named: $0)!) })
        for i in 0..<run.steps {
            let result = try trainer.step(try fixture.dataInputs(rows: run.rows[i]))
            #expect(result.step == i)
            #expect(
                abs(result.loss - run.losses[i]) <= 1e-6 * run.losses[i],
                "\(run.name) step \(i): loss \(result.loss), torch \(run.losses[i])")
            #expect(abs(result.learningRate - run.lrs[i]) <= 1e-15, "\(run.name) step \(i): lr")
            if let norms = run.grad_norms_before_clipping {
                #expect(abs(result.gradientNorm - norms[i]) <= 1e-6 * norms[i], "\(run.name) step \(i): norm")
            }
            for name in trainer.parameterNames {
                let value = try #require(trainer.parameter(named: name))
                guard run.stored.contains(name) else {
                    #expect(value == initial[name], "\(run.name): \(name) is frozen and must keep its bits")
                    continue
                }
                let expected = try TrainingFixture.floats(fixture.runs, "\(run.name).step\(i).\(name)")
                let error = maxDifference(value, expected)
                #expect(error <= tolerance, "\(run.name) step \(i): \(name) max abs error \(error)")
                if name == wordEmbeddings, run.freeze_backbone {
                    #expect(value[0..<(20 * 32)] == initial[name]![0..<(20 * 32)], "rows 0..19 keep their bits")
                }
            }
        }
    }

    @Test(
        "decoder runs equal torch's step by step: SGD, SGD with clipping, AdamW, AdamW defaults, freeze-backbone, freeze-backbone with k2 1 and linear warm-up",
        arguments: [
            "sgd", "sgd_clip", "adamw", "adamw_defaults", "freeze_backbone", "freeze_backbone_k2_1_linear_warmup",
        ])
    func decoderRun(_ name: String) throws {
        let fixture = try TrainingFixture("decoder")
        let run = try #require(fixture.expected.runs.first { $0.name == name })
        try checkRun(fixture, run, tolerance: 1e-5)
    }

    @Test("encoder runs equal torch's step by step: SGD, freeze-backbone AdamW", arguments: ["sgd", "freeze_backbone"])
    func encoderRun(_ name: String) throws {
        let fixture = try TrainingFixture("encoder")
        let run = try #require(fixture.expected.runs.first { $0.name == name })
        try checkRun(fixture, run, tolerance: 1e-5)
    }

    @Test("learning-rate schedules equal transformers' multipliers (schedules.json)")
    func schedules() throws {
        struct Entry: Decodable {
            let kind: String
            let warmup: Int
            let total: Int
            let multipliers: [Double]
        }
        struct File: Decodable { let schedules: [Entry] }
        let file = try JSONDecoder().decode(
            File.self, from: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("training/schedules.json"))))
        #expect(file.schedules.count == 6)
        for entry in file.schedules {
            var options = TrainingOptions()
            options.schedule = try #require(TrainingOptions.Schedule(rawValue: entry.kind))
            options.warmupSteps = entry.warmup
            options.totalSteps = entry.total
            for (step, expected) in entry.multipliers.enumerated() {
                let m = options.learningRateMultiplier(step: step)
                #expect(abs(m - expected) <= 1e-15, "\(entry.kind) w\(entry.warmup) N\(entry.total) step \(step): \(m)")
            }
        }
    }
}
