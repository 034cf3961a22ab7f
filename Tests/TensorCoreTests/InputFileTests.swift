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
