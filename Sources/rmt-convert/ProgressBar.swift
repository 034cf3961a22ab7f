// A progress bar on standard error, shown only on a terminal and only for long work.
import ConvertKit
import Foundation

/// Draws `[#####.....]  42%  120.0 MiB / 286.1 MiB` on stderr when stderr is a terminal and the job is large.
final class ProgressBar {
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var lastPercent = -1
    private let format: (Int) -> String

    /// - Parameters:
    ///   - total: units of work (bytes by default).
    ///   - threshold: below this total no bar is drawn (default ~100 MB).
    ///   - format: how amounts are shown (default: bytes in binary units).
    init(
        label: String, total: Int, threshold: Int = 100_000_000, format: @escaping (Int) -> String = formatBytes
    ) {
        self.total = max(total, 1)
        self.label = label
        self.format = format
        enabled = total >= threshold && isatty(2) == 1
    }

    /// Reports `done` bytes of `total`.
    func update(_ done: Int) {
        guard enabled else { return }
        let percent = min(100, done * 100 / total)
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(percent)%  \(format(done)) / \(format(total))"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    /// Clears the line.
    func finish() {
        guard enabled, lastPercent >= 0 else { return }
        FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    }
}

/// A progress handler drawing one bar per piece of work: bytes from ~100 MB on, segments from 50 on.
func terminalProgress() -> ProgressHandler {
    var bar: ProgressBar?
    return { event in
        switch event {
        case .started(let label, let total, .bytes): bar = ProgressBar(label: label, total: total)
        case .started(let label, let total, .segments):
            bar = ProgressBar(label: label, total: total, threshold: 50, format: String.init)
        case .advanced(let done): bar?.update(done)
        case .finished:
            bar?.finish()
            bar = nil
        }
    }
}
