// What a training run is set to: optimiser, clipping, learning-rate schedule, BPTT depth, freezing, dropout, seed
// (docs/RMT.md §8). Saved in `train_state/state.json`, so a resumed run continues with the same settings.
import Foundation

/// The settings of a training run. The defaults are `torch.optim.AdamW`'s (lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight decay 1e-2), no clipping, a constant learning rate, the folder's `k2`, everything trained, dropout off.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// The update rule.
    public enum Optimizer: String, Codable, Sendable, CaseIterable {
        /// `p ← p − lr·g`: no momentum, no weight decay (`torch.optim.SGD` with its defaults).
        case sgd
        /// `torch.optim.AdamW` (docs/RMT.md §8.9): decoupled weight decay, bias-corrected moments.
        case adamw
    }

    /// The learning-rate multiplier after the warm-up, as transformers' schedules compute it.
    public enum Schedule: String, Codable, Sendable, CaseIterable {
        /// `get_constant_schedule_with_warmup`.
        case constant
        /// `get_linear_schedule_with_warmup`: down to 0 at `totalSteps`.
        case linear
        /// `get_cosine_schedule_with_warmup` (half a cosine period): down to 0 at `totalSteps`.
        case cosine
    }

    public var optimizer = Optimizer.adamw
    /// The peak learning rate (the schedule multiplies it).
    public var learningRate = 1e-3
    /// AdamW's β1 and β2.
    public var beta1 = 0.9
    public var beta2 = 0.999
    /// AdamW's ε.
    public var epsilon = 1e-8
    /// AdamW's decoupled weight decay (every trained parameter, biases and norms included, as one torch parameter
    /// group does); SGD has none and ignores it.
    public var weightDecay = 1e-2
    /// Clip the gradients to this global L2 norm (`torch.nn.utils.clip_grad_norm_`); nil: no clipping.
    public var clipNorm: Double? = nil
    public var schedule = Schedule.constant
    /// Steps of linear warm-up from 0 (step `s < warmupSteps` uses `lr·s/warmupSteps`).
    public var warmupSteps = 0
    /// The run's length, which `linear` and `cosine` decay over.
    public var totalSteps: Int? = nil
    /// Decoder: the `k2` of docs/RMT.md §2.7 (−1 full BPTT), overriding the folder's; nil: the folder's. The
    /// encoder takes only −1 or nil (docs/RMT.md §3.6).
    public var bpttDepth: Int? = nil
    /// Train only the memory (docs/RMT.md §8.4): the decoder's `memory_cell.memory`, the encoder's rows `V..V+m−1`
    /// of the word embeddings. Everything else stays bit for bit.
    public var freezeBackbone = false
    /// The drop probability at every dropout site of the backbone (embeddings, residual branches, the
    /// classifier's input); attention probabilities are not dropped. 0: off (docs/RMT.md §8.3).
    public var dropout = 0.0
    /// Seeds the dropout masks, with the step and the segment: a resumed run draws the same masks.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case optimizer, beta1, beta2, epsilon, schedule, dropout, seed
        case learningRate = "learning_rate", weightDecay = "weight_decay", clipNorm = "clip_norm"
        case warmupSteps = "warmup_steps", totalSteps = "total_steps", bpttDepth = "bptt_depth"
        case freezeBackbone = "freeze_backbone"
    }

    /// Checks every setting.
    /// - Throws: `RMTError` naming the setting.
    public func validate() throws {
        guard learningRate.isFinite, learningRate >= 0 else {
            throw RMTError("lr", "must be a finite number ≥ 0, got \(learningRate)")
        }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw RMTError("betas", "must both lie in [0, 1), got (\(beta1), \(beta2))")
        }
        guard epsilon.isFinite, epsilon >= 0 else { throw RMTError("eps", "must be ≥ 0, got \(epsilon)") }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw RMTError("weight_decay", "must be ≥ 0, got \(weightDecay)")
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw RMTError("clip_norm", "must be > 0, got \(clipNorm)")
        }
        guard warmupSteps >= 0 else { throw RMTError("warmup", "must be ≥ 0, got \(warmupSteps)") }
        if schedule != .constant, totalSteps == nil {
            throw RMTError("schedule", "the \(schedule.rawValue) schedule decays over the run: give the total steps")
        }
        if let totalSteps, totalSteps < 1 { throw RMTError("steps", "must be at least 1, got \(totalSteps)") }
        if let bpttDepth, bpttDepth < -1 { throw RMTError("bptt_depth", "must be −1 (full) or ≥ 0, got \(bpttDepth)") }
        guard (0..<1).contains(dropout) else { throw RMTError("dropout", "must lie in [0, 1), got \(dropout)") }
    }

    /// The learning-rate multiplier of step `step` (0-based), as transformers' `get_…_schedule_with_warmup`
    /// give it to `LambdaLR` (fixtures/training/schedules.json): `step / max(1, warmup)` during the warm-up, then
    /// 1 (constant), `max(0, (N − step) / max(1, N − warmup))` (linear) or
    /// `max(0, ½(1 + cos(π·(step − warmup) / max(1, N − warmup))))` (cosine, half a period).
    public func learningRateMultiplier(step: Int) -> Double {
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let total = totalSteps ?? 0
        switch schedule {
        case .constant:
            return 1
        case .linear:
            return max(0, Double(total - step) / Double(max(1, total - warmupSteps)))
        case .cosine:
            let progress = Double(step - warmupSteps) / Double(max(1, total - warmupSteps))
            return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
        }
    }

    /// The learning rate step `step` trains with.
    public func learningRate(step: Int) -> Double { learningRate * learningRateMultiplier(step: step) }
}

/// The decoder's BPTT truncation (docs/RMT.md §2.7): the memory `M_j` written by segment `j` is detached iff
/// `j ≥ 1`, `k2` is set and not −1, and `j + k2 ≤ K` (the configured `max_n_segments`, not the segments run).
struct TruncationRule: Sendable, Equatable {
    /// nil or −1: full BPTT.
    let k2: Int?
    let maxSegments: Int?

    /// - Throws: `RMTError` naming `bptt_depth` when `k2 ≥ 0` but `max_n_segments` is unknown.
    init(k2: Int?, maxSegments: Int?) throws {
        if let k2, k2 >= 0, maxSegments == nil {
            throw RMTError(
                "bptt_depth",
                "k2 = \(k2) compares with max_n_segments, which rmt_config.json does not set; wrap with --max-segments or use −1"
            )
        }
        self.k2 = k2
        self.maxSegments = maxSegments
    }

    /// Whether `M_j` is detached.
    func detaches(_ j: Int) -> Bool {
        guard let k2, k2 != -1, let K = maxSegments else { return false }
        return j >= 1 && j + k2 <= K
    }
}
