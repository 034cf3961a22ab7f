// `rmt-convert bench`: the timing summary and the workloads on the tiny fixture models.
import ConvertKit
import Foundation
import Testing
import TestSupport

@Suite("Bench")
struct BenchTests {
    @Test("the median of an odd count is the middle value, of an even count the mean of the two middle ones")
    func medians() {
        let odd = BenchTiming([0.3, 0.1, 0.2])
        #expect(odd.median == 0.2 && odd.min == 0.1 && odd.max == 0.3 && odd.repetitions == 3)
        #expect(BenchTiming([4, 1, 3, 2]).median == 2.5)
        #expect(odd.cpuMedian == nil && BenchTiming([1, 2], cpuTimes: [0.5, 0.9, 0.1]).cpuMedian == 0.5)
    }

    @Test("measured runs record the process's CPU time: a run that only computes spends CPU time")
    func cpuTime() {
        var sink: Double = 0
        let timing = BenchTiming.measure(warmup: 0, repetitions: 3) {
            for i in 0..<2_000_000 { sink += Double(i).squareRoot() }
        }
        #expect((timing.cpuMedian ?? 0) > 0, "CPU time of a computing loop")
        #expect(sink > 0)
    }

    @Test("forward on the tiny BERT and GPT-2 counts B·T tokens and the layers' FLOPs")
    func forwardOnTinyModels() throws {
        for name in ["tiny-bert", "tiny-gpt2"] {
            let r = try Bench.forward(
                folder: Fixtures.path("models/\(name)"), batch: 2, length: 8, warmup: 0, repetitions: 2)
            #expect(r.timing.repetitions == 2)
            let tokensPerSecond = try #require(r.tokensPerSecond)
            #expect(abs(tokensPerSecond * r.timing.median - 16) < 1e-6, "\(name): tokens/s × median time is B·T")
            #expect((r.flops ?? 0) > 0 && (r.figures["layerGemmGFLOPs"] ?? 0) > 0)
            #expect(try r.json().contains("\"gflopPerSecond\""))
        }
    }

    @Test("inspect latency reports the checkpoint's size")
    func inspectLatency() throws {
        let path = Fixtures.path("models/tiny-bert/model.safetensors")
        let r = try Bench.inspectLatency(path: path, warmup: 0, repetitions: 3)
        let size = try #require(r.figures["checkpointMB"])
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 0 && size * 1e6 <= Double(fileSize), "the tensors' bytes fit in the file")
    }
}
