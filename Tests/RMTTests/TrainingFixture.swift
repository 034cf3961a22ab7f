// Reading fixtures/training (tools/make_training_fixtures.py, PyTorch ground truth): the tiny RMT folders, their
// data, the gradient cases and the optimiser runs; see fixtures/training/README.md.
import Checkpoints
import Foundation
import RMT
import TensorCore
import TestSupport

/// One variant's folder of fixtures/training.
struct TrainingFixture {
    struct GradientCase: Decodable {
        let name: String
        let rows: [Int]
        let k2: Int?
        let loss: Double
        let grad_max_abs: Double
        let sum_loss: Bool?
        let losses: [Double]?
    }

    struct Schedule: Decodable {
        let kind: String
        let warmup: Int
        let total: Int
    }

    struct Run: Decodable {
        let name: String
        let optimizer: String
        let lr: Double
        let betas: [Double]?
        let eps: Double?
        let weight_decay: Double?
        let steps: Int
        let batch_size: Int
        let rows: [[Int]]
        let clip_norm: Double?
        let freeze_backbone: Bool
        let k2: Int?
        let schedule: Schedule?
        let stored: [String]
        let losses: [Double]
        let lrs: [Double]
        let grad_norms_before_clipping: [Double]?
    }

    struct Parameter: Decodable {
        let name: String
        let shape: [Int]
    }

    struct Expected: Decodable {
        let gradient_cases: [GradientCase]
        let runs: [Run]
        let parameters: [Parameter]
    }

    let folder: String
    let expected: Expected
    let gradients: SafetensorsArchive
    let runs: SafetensorsArchive
    let data: NPZArchive

    /// `decoder` or `encoder`.
    init(_ variant: String) throws {
        folder = Fixtures.path("training/\(variant)")
        expected = try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/expected.json")))
        gradients = try SafetensorsArchive(path: "\(folder)/gradients.safetensors")
        runs = try SafetensorsArchive(path: "\(folder)/runs.safetensors")
        data = try NPZArchive(path: "\(folder)/data.npz")
    }

    /// The initial model.
    func model() throws -> RMTModel { try RMTModel.load(folder: folder) }

    /// A float32 tensor of `archive`.
    static func floats(_ archive: any TensorArchive, _ name: String) throws -> [Float] {
        try archive.tensor(named: name).floatValues()
    }

    /// The inputs stored under `prefix` (`full_bptt.`, or the data file's keys with `prefix` empty) for `rows`.
    static func inputs(_ archive: any TensorArchive, prefix: String, rows: [Int]? = nil) throws -> RMTInputs {
        func ints(_ key: String) throws -> (values: [Int], shape: [Int])? {
            guard archive.tensorNames.contains(prefix + key) else { return nil }
            let t = try archive.tensor(named: prefix + key)
            return (try t.int64Values().map { Int($0) }, t.shape.dimensions)
        }
        func select(_ values: [Int], width: Int) -> [Int] {
            guard let rows else { return values }
            return rows.flatMap { values[($0 * width)..<(($0 + 1) * width)] }
        }
        let ids = try ints("input_ids")!
        let T = ids.shape[1]
        let B = rows?.count ?? ids.shape[0]
        let labels = try ints("labels")!
        let labelWidth = labels.shape.count == 1 ? 1 : T
        return try RMTInputs(
            ids: select(ids.values, width: T), batch: B, length: T,
            attentionMask: try ints("attention_mask").map { select($0.values, width: T).map(Float.init) },
            labels: select(labels.values, width: labelWidth),
            labelsMask: try ints("labels_mask").map { select($0.values, width: T).map { $0 != 0 } })
    }

    /// The batch of a gradient case.
    func caseInputs(_ c: GradientCase) throws -> RMTInputs {
        try Self.inputs(gradients, prefix: "\(c.name).")
    }

    /// The batch of data.npz rows `rows`.
    func dataInputs(rows: [Int]) throws -> RMTInputs {
        try Self.inputs(data, prefix: "", rows: rows)
    }

    /// A run's settings as `TrainingOptions`.
    static func options(_ run: Run) -> TrainingOptions {
        var o = TrainingOptions()
        o.optimizer = run.optimizer == "sgd" ? .sgd : .adamw
        o.learningRate = run.lr
        if let betas = run.betas { (o.beta1, o.beta2) = (betas[0], betas[1]) }
        if let eps = run.eps { o.epsilon = eps }
        if let wd = run.weight_decay { o.weightDecay = wd }
        o.clipNorm = run.clip_norm
        o.freezeBackbone = run.freeze_backbone
        o.bpttDepth = run.k2
        if let s = run.schedule {
            o.schedule = TrainingOptions.Schedule(rawValue: s.kind)!
            o.warmupSteps = s.warmup
            o.totalSteps = s.total
        }
        return o
    }
}

/// `max |a − b|` over two equally long arrays (infinity when the counts differ or a value is not finite).
func maxDifference(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for i in a.indices {
        let d = abs(Double(a[i]) - Double(b[i]))
        if !d.isFinite { return .infinity }
        worst = max(worst, d)
    }
    return worst
}
