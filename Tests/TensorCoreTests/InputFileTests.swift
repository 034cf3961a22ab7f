// Opening inputs: regular files only, never blocking; a mapped file truncated under the reader is an error.
import Foundation
import TensorCore
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Input files")
struct InputFileTests {
    /// A temporary folder removed when the test ends.
    final class Folder {
        let path: String
        init() throws { path = try Fixtures.temporaryFolder() }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test("A FIFO, a device, a socket-free directory and a symlink to a FIFO are refused by kind, without blocking")
    func irregularFiles() throws {
        let folder = try Folder()
        let fifo = "\(folder.path)/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: "\(folder.path)/link", withDestinationPath: fifo)
        for (path, kind) in [
            (fifo, "is a named pipe (FIFO), not a regular file"),
            ("\(folder.path)/link", "is a named pipe (FIFO), not a regular file"),
            ("/dev/null", "is a character device, not a regular file"),
            (folder.path, "is a directory"),
        ] {
            // Each would block (a FIFO without a writer) or read nothing useful; all fail at once.
            #expect {
                _ = try MappedFile(path: path)
            } throws: { "\($0)".contains(kind) && "\($0)".hasPrefix("\(path): cannot open:") }
            #expect { _ = try InputFile.contents(path) } throws: { "\($0)".contains(kind) }
            #expect { try InputFile.checkRegular(path) } throws: { "\($0)".contains(kind) }
        }
    }

    @Test("A symlink to a regular file is followed; the contents are read whole")
    func symlinkToRegularFile() throws {
        let folder = try Folder()
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Fixtures.write(bytes, to: "\(folder.path)/data")
        try FileManager.default.createSymbolicLink(atPath: "\(folder.path)/link", withDestinationPath: "data")
        #expect(try InputFile.contents("\(folder.path)/link") == bytes)
        let mapped = try MappedFile(path: "\(folder.path)/link")
        #expect(Array(mapped.bytes) == bytes)
        try mapped.checkUnchanged()
    }

    @Test("Symlinks may stay inside the folder, or lead from a Hugging Face snapshot to its blobs, and nowhere else")
    func symlinksStayInside() throws {
        let root = try Folder()
        let fm = FileManager.default
        let snapshot = "\(root.path)/models--x/snapshots/abc", blobs = "\(root.path)/models--x/blobs"
        try fm.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try Fixtures.write([1], to: "\(blobs)/sha")
        try Fixtures.write([2], to: "\(snapshot)/real.json")
        try Fixtures.write([3], to: "\(root.path)/secret")
        try fm.createSymbolicLink(atPath: "\(snapshot)/model.safetensors", withDestinationPath: "../../blobs/sha")
        try fm.createSymbolicLink(atPath: "\(snapshot)/config.json", withDestinationPath: "real.json")
        try fm.createSymbolicLink(atPath: "\(snapshot)/tokenizer.json", withDestinationPath: "../../../secret")
        for name in ["model.safetensors", "config.json", "real.json", "missing.json"] {
            try InputFile.checkInside("\(snapshot)/\(name)", folder: snapshot)
        }
        #expect {
            try InputFile.checkInside("\(snapshot)/tokenizer.json", folder: snapshot)
        } throws: { "\($0)".contains("is a symbolic link to") && "\($0)".contains("outside the checkpoint folder") }
        // blobs/ counts only for a folder inside snapshots/.
        try fm.createSymbolicLink(atPath: "\(root.path)/link", withDestinationPath: "models--x/blobs/sha")
        try InputFile.checkInside("\(root.path)/link", folder: root.path)
        try fm.createDirectory(atPath: "\(root.path)/models--x/other", withIntermediateDirectories: true)
        #expect { try InputFile.checkInside("\(blobs)/sha", folder: "\(root.path)/models--x/other") } throws: { _ in
            true
        }
    }

    @Test("Pages past the end of a mapped file truncated under the reader read as zeros, and the mapping says so")
    func truncatedWhileMapped() throws {
        let folder = try Folder()
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let path = "\(folder.path)/weights"
        try Fixtures.write([UInt8](repeating: 0xAB, count: 4 * page), to: path)
        let mapped = try MappedFile(path: path)
        try mapped.checkUnchanged()
        #expect(truncate(path, off_t(page)) == 0)
        // Without the guard this read kills the process with SIGBUS.
        let past = mapped.bytes[3 * page + 5]
        #expect(past == 0)
        #expect(mapped.bytes[page - 1] == 0xAB)
        #expect {
            try mapped.checkUnchanged()
        } throws: {
            ($0 as? MappedFileError)?.changedWhileReading == true && "\($0)".contains("was truncated")
        }
    }

    @Test("A file shortened within its last page raises no fault but is still found changed (by its size)")
    func shortenedWithinLastPage() throws {
        let folder = try Folder()
        let path = "\(folder.path)/weights"
        try Fixtures.write([UInt8](repeating: 7, count: 1000), to: path)
        let mapped = try MappedFile(path: path)
        #expect(truncate(path, 990) == 0)
        #expect(mapped.bytes[995] == 0)
        #expect {
            try mapped.checkUnchanged()
        } throws: { "\($0)".contains("shrank from 1000 to 990 bytes") }
        // A path that now names another file is not the mapped file changing.
        try FileManager.default.removeItem(atPath: path)
        try Fixtures.write([1], to: path)
        try mapped.checkUnchanged()
    }
}
