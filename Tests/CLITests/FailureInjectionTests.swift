// Writes that fail part-way (a tensor that throws, a full disk, a folder that refuses files, a killed process)
// must leave the previous file byte-identical and no temporary file behind, for every writer.
import Checkpoints
import ConvertKit
import Foundation
import TensorCore
import Testing
import TestSupport
#if canImport(Glibc)
    import Glibc
#endif

/// A failure raised by a test source half-way through a write.
struct InjectedFailure: Error {}

/// Every writable format with a file name for it.
let writableFormats: [(format: CheckpointFormat, file: String)] = [
    (.safetensors, "out.safetensors"), (.npz, "out.npz"), (.npy, "out.npy"), (.torch, "out.bin"), (.hdf5, "out.h5"),
]

/// `count` small tensors; the one at `failing` throws when loaded (or, with `wrongShape`, loads a shape other
/// than the declared one).
func sources(_ count: Int, scale: Float, failing: Int? = nil, wrongShape: Bool = false) -> [TensorSource] {
    (0..<count).map { i in
        let tensor = Tensor((0..<6).map { Float($0 + i) * scale }, shape: [2, 3])
        guard i == failing else { return TensorSource(name: "t\(i)", tensor: tensor) }
        return TensorSource(info: TensorInfo(name: "t\(i)", dtype: .f32, shape: [2, 3])) {
            if wrongShape { return Tensor([1, 2, 3], shape: [3]) }
            throw InjectedFailure()
        }
    }
}

@Suite("Failure injection: nothing half-written, nothing lost")
struct FailureInjectionTests {
    @Test(
        "A tensor that fails half-way leaves the previous file byte-identical and no temporary file, for every writer",
        arguments: writableFormats.map(\.file))
    func failingTensor(_ file: String) throws {
        let format = try #require(writableFormats.first { $0.file == file }?.format)
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/\(file)"
        let count = format == .npy ? 1 : 3
        try ArchiveRegistry.write(sources(count, scale: 1), format: format, to: path, options: WriteOptions())
        let before = try Fixtures.bytes(path)
        for wrongShape in [false, true] where !(wrongShape && format == .hdf5) {
            let failing = sources(count, scale: 2, failing: count - 1, wrongShape: wrongShape)
            #expect(throws: (any Error).self) {
                try ArchiveRegistry.write(failing, format: format, to: path, options: WriteOptions(overwrite: true))
            }
            #expect(try Fixtures.bytes(path) == before, "\(file): previous file changed (wrongShape: \(wrongShape))")
            #expect(temporaryFiles(below: folder).isEmpty, "\(file): \(temporaryFiles(below: folder))")
            // A fresh destination stays absent.
            #expect(throws: (any Error).self) {
                try ArchiveRegistry.write(
                    failing, format: format, to: "\(folder)/fresh-\(file)", options: WriteOptions())
            }
            #expect(!FileManager.default.fileExists(atPath: "\(folder)/fresh-\(file)"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [file])
    }

    @Test(
        "Every writer refuses to replace an existing file without overwrite, and replaces it with it",
        arguments: writableFormats.map(\.file))
    func forceSemantics(_ file: String) throws {
        let format = try #require(writableFormats.first { $0.file == file }?.format)
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/\(file)"
        let count = format == .npy ? 1 : 2
        try ArchiveRegistry.write(sources(count, scale: 1), format: format, to: path, options: WriteOptions())
        let before = try Fixtures.bytes(path)
        #expect {
            try ArchiveRegistry.write(sources(count, scale: 3), format: format, to: path, options: WriteOptions())
        } throws: { ($0 as? CheckpointError)?.kind == .alreadyExists && "\($0)".contains("--force") }
        #expect(try Fixtures.bytes(path) == before)
        try ArchiveRegistry.write(
            sources(count, scale: 3), format: format, to: path, options: WriteOptions(overwrite: true))
        let replaced = try Checkpoint.open(path).archive
        #expect(try replaced.tensor(named: replaced.tensorNames[0]).floatValues() == (0..<6).map { Float($0) * 3 })
        #expect(temporaryFiles(below: folder).isEmpty)
    }

    @Test("A folder that refuses new files fails cleanly with the reason (read-only; /proc when running as root)")
    func unwritableFolder() throws {
        let folder = try Fixtures.temporaryFolder()
        defer {
            chmod(folder, 0o755)
            try? FileManager.default.removeItem(atPath: folder)
        }
        chmod(folder, 0o555)
        let target = geteuid() == 0 ? "/proc/self/out.safetensors" : "\(folder)/out.safetensors"
        #expect {
            try ArchiveRegistry.write(sources(2, scale: 1), format: .safetensors, to: target, options: WriteOptions())
        } throws: { error in
            (error as? CheckpointError)?.kind == .io && "\(error)".contains("cannot create a temporary file")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }

    @Test(
        "A full disk (RLIMIT_FSIZE, SIGXFSZ ignored) fails with one line and leaves the old output and no temporary file",
        arguments: ["out.safetensors", "out.npz", "out.bin", "out.h5"])
    func diskFull(_ file: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/\(file)"
        try Fixtures.write(Array("previous contents".utf8), to: path)
        // 64 blocks of 512 bytes: the 125 KB tiny GPT-2 cannot fit.
        let script = "trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\""
        let result = try runCommand(
            "/bin/sh",
            [
                "-c", script, rmtConvertBinary(), "convert", "fixtures/models/tiny-gpt2/model.safetensors", path,
                "--force",
            ],
            in: Fixtures.root)
        let lines = result.stderr.split(separator: "\n")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: \(path):"), "\(result.stderr)")
        #expect(try Fixtures.bytes(path) == Array("previous contents".utf8))
        #expect(temporaryFiles(below: folder).isEmpty, "\(temporaryFiles(below: folder))")
    }

    @Test(
        "A process killed mid-write leaves the destination untouched; the next write removes its stale temporary file")
    func killedMidWrite() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 16 MiB of varied floats, deflated into .npz: the temporary file exists for the whole write.
        let big = "\(folder)/big.safetensors"
        let values = (0..<(4 << 20)).map { Float(($0 &* 2_654_435_761) % 1000) / 7 }
        try SafetensorsWriter.write(
            [TensorSource(name: "w", tensor: Tensor(values, shape: [4 << 20]))], metadata: nil, to: big,
            overwrite: false)
        let destination = "\(folder)/out.npz"
        try Fixtures.write(Array("previous".utf8), to: destination)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: rmtConvertBinary())
        process.arguments = ["convert", big, destination, "--compress", "--force"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        var temporary: [String] = []
        for _ in 0..<2000 where temporary.isEmpty && process.isRunning {
            usleep(2000)
            temporary = temporaryFiles(below: folder)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(!temporary.isEmpty, "the conversion finished before it could be killed")
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(try Fixtures.bytes(destination) == Array("previous".utf8))
        #expect(!temporaryFiles(below: folder).isEmpty, "a killed process cannot clean up; its temporary file stays")

        // The next write to the same destination removes the dead process's temporary file.
        _ = try convert(
            try Checkpoint.open(Fixtures.path("models/tiny-gpt2/model.safetensors")), to: destination,
            options: ConvertOptions(force: true))
        #expect(temporaryFiles(below: folder).isEmpty)
        #expect(try Checkpoint.open(destination).archive.tensorInfos.count == 28)
    }

    @Test(
        "convert into a folder refuses before writing anything when any output exists, and removes a folder it created on failure"
    )
    func folderOutputs() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Fixtures.path("models/tiny-gpt2")
        let destination = "\(folder)/copy"
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        try Fixtures.write(Array("{}".utf8), to: "\(destination)/config.json")
        #expect {
            _ = try convert(try Checkpoint.open(source), to: destination, options: ConvertOptions())
        } throws: { ($0 as? CheckpointError)?.kind == .alreadyExists && "\($0)".contains("config.json") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["config.json"])

        // A source whose data fails half-way: the new folder is removed again.
        let broken = "\(folder)/broken.npz"
        try Fixtures.write(Fixtures.bytes(Fixtures.path("malformed/npz_bad_crc.npz")), to: broken)
        #expect(throws: CheckpointError.self) {
            _ = try convert(
                try Checkpoint.open(broken), to: "\(folder)/shards", options: ConvertOptions(maxShardSize: 1))
        }
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/shards"))
    }

    @Test("wrap failing on its last file removes the files it wrote, and the output folder when it created it")
    func wrapFailsLate() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let backbone = "\(folder)/gpt2"
        try FileManager.default.copyItem(atPath: Fixtures.path("models/tiny-gpt2"), toPath: backbone)
        // A tokenizer file that exists but cannot be copied: the weights and configs are written before it fails.
        try FileManager.default.createDirectory(
            atPath: "\(backbone)/tokenizer.json", withIntermediateDirectories: false)
        var options = WrapOptions(memoryTokens: 2)
        options.segmentSize = 8
        #expect(throws: CheckpointError.self) {
            _ = try wrap(try Checkpoint.open(backbone), output: "\(folder)/rmt", options: options)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/rmt"))
        // Into an existing folder: only the files this run created go, the folder and what it held stay.
        try FileManager.default.createDirectory(atPath: "\(folder)/kept", withIntermediateDirectories: false)
        try Fixtures.write(Array("notes".utf8), to: "\(folder)/kept/notes.txt")
        #expect(throws: CheckpointError.self) {
            _ = try wrap(try Checkpoint.open(backbone), output: "\(folder)/kept", options: options)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder)/kept") == ["notes.txt"])
        #expect(temporaryFiles(below: folder).isEmpty)
    }
}
