// What `train` shows while it runs: a progress bar redrawn in place on a terminal, one JSON line per event with
// --json, and evaluations and checkpoints as text lines otherwise.
import ConvertKit
import Foundation

/// `{"type": "checkpoint", "step", "path"}`: a checkpoint replaced OUT_DIR.
struct CheckpointRecord: Encodable {
    var type = "checkpoint"
    let step: Int
    let path: String
}

/// Shows the events of a training run.
final class TrainDisplay {
    private let json: Bool
    /// Draw the bar: stderr is a terminal, and with --json stdout is not (the lines would cut through it).
    private let drawsBar: Bool
    private var total = 0
    private var firstStep = 0
    private var start = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var tokens = 0
    private var barShown = false

    init(json: Bool) {
        self.json = json
        drawsBar = isatty(2) == 1 && !(json && isatty(1) == 1)
    }

    func show(_ event: TrainEvent) {
        switch event {
        case .started(let s):
            total = s.totalSteps
            firstStep = s.firstStep
            start = .now
            for note in s.notes { printError("note: \(note)\n") }
            if json {
                line(try? jsonLine(s))
            } else {
                let o = s.options
                let steps = s.firstStep > 0 ? "steps \(s.firstStep + 1)…\(s.totalSteps)" : "\(s.totalSteps) steps"
                line(
                    "training the \(s.variant.rawValue) RMT into \(s.output): \(steps) of \(s.batchSize) rows × \(s.rowLength) tokens, \(o.optimizer.rawValue) lr \(o.learningRate) (\(o.schedule.rawValue)), \(s.trainedTensors) trained tensors"
                )
            }
        case .step(let r):
            tokens += r.tokens
            if json { line(try? jsonLine(r)) }
            drawBar(r)
        case .evaluated(let e):
            line(
                json
                    ? try? jsonLine(e)
                    : String(
                        format: "step %d: eval loss %.4f, accuracy %.4f (%d/%d)", e.step, e.loss, e.accuracy,
                        e.correct, e.scored))
        case .checkpoint(let step, let phase, let path):
            guard phase == .replaced else { return }
            line(
                json ? try? jsonLine(CheckpointRecord(step: step, path: path)) : "step \(step): checkpoint in \(path)")
        }
    }

    /// Clears the bar.
    func finish() {
        guard barShown else { return }
        printError("\r\u{1B}[K")
        barShown = false
    }

    /// Prints a line to stdout, above the bar.
    private func line(_ text: String?) {
        guard let text else { return }
        finish()
        printOut(text + "\n")
    }

    /// `step 120/1000 [######......] loss 0.4321  12,345 tokens/s  ETA 1m 20s`, at most ten times a second.
    private func drawBar(_ r: TrainStepRecord) {
        guard drawsBar else { return }
        let now = ContinuousClock.now
        if let lastDraw, r.step < total, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        let since = now - start
        let elapsed = max(1e-9, Double(since.components.seconds) + Double(since.components.attoseconds) * 1e-18)
        let done = r.step - firstStep
        let width = 30
        let filled = r.step * width / max(1, total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta = Double(total - r.step) * elapsed / Double(max(1, done))
        let text =
            "step \(r.step)/\(total) [\(bar)] loss \(String(format: "%.4f", r.loss))  "
            + "\(formatCount(Int(Double(tokens) / elapsed))) tokens/s  ETA \(duration(eta))"
        printError("\r\u{1B}[K" + text)
        barShown = true
    }

    /// `45s`, `12m 05s`, `3h 20m`.
    private func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return String(format: "%dh %02dm", s / 3600, s % 3600 / 60)
    }
}
