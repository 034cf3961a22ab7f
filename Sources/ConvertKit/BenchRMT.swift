// RMT and checkpoint workloads of `rmt-convert bench`.
import Checkpoints
import Foundation
import Models
import RMT

extension Bench {
    /// Runs the RMT folder over one sample of `tokens` synthetic ids, streaming: each segment's outputs are dropped
    /// as soon as they are produced (the decoder's logits are computed, as the reference does, but not kept).
    /// - Returns: tokens/s, with `usPerToken`, `segments` and this process's `peakRSSMB` as figures.
    public static func rmt(folder: String, tokens T: Int, warmup: Int, repetitions: Int) throws -> BenchResult {
        let loaded = try RMTModel.load(folder: folder)
        let ids: [Int]
        switch loaded.network {
        case .decoder(let model):
            let V = model.backbone.vocabularySize
            ids = (0..<T).map { ($0 * 7919 + 13) % V }
        case .encoder(let model):
            let special = model.segmentation.special.all
            let V = model.segmentation.firstMemoryID
            // Content ids only: the encoder strips special ids, which would shorten the input.
            ids = (0..<T).map { i -> Int in
                var id = syntheticId(i, vocabulary: V)
                while special.contains(id) { id = (id + 1) % V }
                return id
            }
            let capacity = model.segmentation.segmentSize * model.segmentation.maxSegments
            guard capacity >= T else {
                throw CheckpointError(
                    .configuration, file: folder,
                    "max_n_segments × segment_size = \(capacity) tokens < \(T); wrap with --max-segments \(T / model.segmentation.segmentSize + 1) or more"
                )
            }
        }
        let kind = loaded.variant.rawValue
        let inputs = try RMTInputs(ids: ids, batch: 1, length: T)
        var segments = 0
        let body = {
            segments = 0
            try loaded.forward(inputs) { _ in segments += 1 }
        }
        let timing = try BenchTiming.measure(warmup: warmup, repetitions: repetitions, body)
        var figures = [
            "usPerToken": timing.median / Double(T) * 1e6, "segments": Double(segments),
            "peakRSSMB": Double(peakResidentBytes) / 1e6,
        ]
        figures["cpuUsPerToken"] = timing.cpuMedian.map { $0 / Double(T) * 1e6 }
        return BenchResult(
            workload: "rmt", label: "rmt \(kind) \(T) tokens threads \(Kernels.threadCount)", timing: timing,
            tokensPerSecond: Double(T) / timing.median, figures: figures)
    }

    /// `inspect` of a checkpoint in process: open (header only, weights mapped), report, format the table.
    public static func inspectLatency(path: String, warmup: Int, repetitions: Int) throws -> BenchResult {
        var size = 0
        let timing = try BenchTiming.measure(warmup: warmup, repetitions: repetitions) {
            let report = inspect(try Checkpoint.open(path))
            size = report.totalBytes
            _ = report.table()
        }
        return BenchResult(
            workload: "inspect", label: "inspect \((path as NSString).lastPathComponent)", timing: timing,
            figures: ["checkpointMB": Double(size) / 1e6])
    }
}
