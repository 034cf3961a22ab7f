// OUT_DIR of `train` (docs/RMT.md §8.11): a normal RMT folder plus train_state/ and metrics.jsonl. A checkpoint is
// written into a fresh folder beside it and exchanged with it in one step (Checkpoints/AtomicFolder.swift), so a
// process killed at any moment leaves OUT_DIR as the previous checkpoint or the new one; metrics.jsonl is appended
// line by line and cut back, on resume, to the steps the checkpoint holds.
import Checkpoints
import Foundation
import RMT
import TensorCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a checkpoint is in its writing: the points at which `train` reports it (and a test may stop the process).
public enum CheckpointPhase: String, Sendable, CaseIterable {
    /// The engine's files (weights, train_state/) are in the temporary folder; run.json and metrics are not.
    case written
    /// The temporary folder is complete; OUT_DIR is still the previous checkpoint.
    case ready
    /// OUT_DIR is the new checkpoint; the previous one, beside it, is not removed yet.
    case replaced
}

/// `metrics.jsonl`: one JSON object per line, a `train` record per step and an `eval` record per evaluation, in
/// step order.
final class TrainMetrics {
    /// The file's name in OUT_DIR.
    static let fileName = "metrics.jsonl"
    let path: String
    private var fd: Int32 = -1

    /// Opens `folder/metrics.jsonl` for appending. With `keepingThrough` the records of later steps (what a run
    /// did after its last checkpoint before it was stopped) and a torn last line are cut off first, so the file
    /// stays one history; without it the file starts empty.
    /// - Throws: `CheckpointError(.io)` naming the file.
    init(folder: String, keepingThrough completed: Int?) throws {
        path = "\(folder)/\(TrainMetrics.fileName)"
        if let completed {
            let text = fileExists(path) ? Data(try readInputFile(path)) : Data()
            try open(truncate: false)
            guard ftruncate(fd, off_t(TrainMetrics.keptBytes(of: text, through: completed))) == 0 else {
                throw CheckpointError(.io, file: path, "cannot be cut back: \(String(cString: strerror(errno)))")
            }
        } else {
            try open(truncate: true)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The length of the leading complete lines whose `step` is at most `completed`.
    static func keptBytes(of text: Data, through completed: Int) -> Int {
        var kept = 0
        var start = text.startIndex
        while let end = text[start...].firstIndex(of: UInt8(ascii: "\n")) {
            guard let object = try? JSONSerialization.jsonObject(with: text[start..<end]) as? [String: Any],
                let step = object["step"] as? Int, step <= completed
            else { break }
            kept = end + 1 - text.startIndex
            start = end + 1
        }
        return kept
    }

    private func open(truncate: Bool) throws {
        if fd >= 0 { close(fd) }
        fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else {
            throw CheckpointError(.io, file: path, "cannot be opened: \(String(cString: strerror(errno)))")
        }
    }

    /// Appends `line` (one JSON object, no newline) in one write.
    func append(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw CheckpointError(.io, file: path, "cannot be written: \(String(cString: strerror(errno)))")
        }
    }

    /// Puts the file into a checkpoint's temporary folder: flushed to disk, then hard-linked (the same file under
    /// both names) or, where links are not allowed, copied.
    func place(into folder: String) throws {
        _ = fsync(fd)
        let target = "\(folder)/\(TrainMetrics.fileName)"
        if link(path, target) != 0 { try copyFileAtomically(from: path, to: target, overwrite: false) }
    }

    /// Opens the file again after OUT_DIR was replaced: the name now belongs to the new checkpoint's file.
    func reopen() throws { try open(truncate: false) }
}

/// Preparing OUT_DIR and replacing it with checkpoints.
struct TrainOutput {
    let path: String

    /// Refuses, before anything is loaded, an OUT_DIR a fresh run may not write: one that holds files, unless it
    /// holds an earlier training run and `force` is given; the RMT folder being trained.
    /// - Throws: `CheckpointError` naming OUT_DIR.
    static func checkFresh(_ plan: TrainPlan) throws {
        let out = plan.output
        guard FileManager.default.fileExists(atPath: out) else { return }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: out) else {
            throw CheckpointError(.alreadyExists, file: out, "exists and is not a folder; choose another --output")
        }
        guard !entries.isEmpty else { return }
        let real = { (p: String) in URL(fileURLWithPath: p).resolvingSymlinksInPath().path }
        if real(out) == real(plan.model) {
            throw CheckpointError(
                .alreadyExists, file: out, "is the RMT folder being trained; write the run to another --output")
        }
        guard plan.force else {
            throw CheckpointError(
                .alreadyExists, file: out,
                "output already exists; pass --force to replace an earlier run, --resume \(out) to continue it, or choose another --output"
            )
        }
        guard entries.contains("train_state") || entries.contains(TrainMetrics.fileName) else {
            throw CheckpointError(
                .alreadyExists, file: out,
                "holds files that are not a training run's (no train_state/, no metrics.jsonl); --force replaces only an earlier run: choose another --output"
            )
        }
    }

    /// Gets OUT_DIR ready and opens its metrics: removes what killed writers left beside it; a fresh run starts
    /// OUT_DIR empty (an earlier run is removed, `checkFresh` allowed it), a resumed run cuts metrics.jsonl back to
    /// its checkpoint.
    /// - Throws: `CheckpointError(.io)` naming the folder or file.
    static func prepare(_ plan: TrainPlan) throws -> (TrainOutput, TrainMetrics) {
        let out = plan.output
        removeStaleTemporaryFolders(beside: out)
        if !plan.resume, FileManager.default.fileExists(atPath: out) {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            if !entries.isEmpty {
                do { try FileManager.default.removeItem(atPath: out) } catch {
                    throw CheckpointError(
                        .io, file: out, "cannot remove the earlier run: \(error.localizedDescription)")
                }
            }
        }
        try createDirectory(out)
        let metrics = try TrainMetrics(folder: out, keepingThrough: plan.resume ? plan.completedSteps : nil)
        return (TrainOutput(path: out), metrics)
    }

    /// Writes a checkpoint of `trainer` with `run` and `metrics` into a fresh folder beside OUT_DIR and exchanges
    /// it with OUT_DIR, reporting each phase to `report`.
    /// - Throws: what the engine's `save` throws, `CheckpointError(.io)`; OUT_DIR is then unchanged.
    func checkpoint(
        _ trainer: RMTTrainer, run: TrainRun, metrics: TrainMetrics, report: (CheckpointPhase, String) -> Void
    ) throws {
        let fresh = try makeTemporaryFolder(beside: path, label: "checkpoint")
        do {
            try trainer.save(to: fresh)
            report(.written, fresh)
            try writeText(try run.text(), to: "\(fresh)/\(TrainRun.fileName)", overwrite: false)
            try metrics.place(into: fresh)
            syncFolder("\(fresh)/train_state")
            syncFolder(fresh)
            report(.ready, fresh)
        } catch {
            try? FileManager.default.removeItem(atPath: fresh)
            throw error
        }
        let previous = try replaceFolder(path, with: fresh)
        report(.replaced, path)
        if let previous { try? FileManager.default.removeItem(atPath: previous) }
        try metrics.reopen()
    }
}

/// The size and CRC-32 of a data file, to recognise it on resume.
func fingerprint(_ path: String) throws -> (bytes: Int, crc32: UInt32) {
    let file: MappedFile
    do { file = try MappedFile(path: path) } catch let e as MappedFileError {
        throw CheckpointError(.io, file: path, "cannot be read: \(e.reason)")
    }
    return (file.bytes.count, ZipCRC32.checksum(file.bytes))
}
