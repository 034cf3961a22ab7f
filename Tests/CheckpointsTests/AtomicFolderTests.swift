// Replacing a whole folder in one step (train's checkpoints): the exchange, the two-rename fallback, and the clean-up
// of what a killed writer left beside the folder, including putting a moved-aside folder back.
import Foundation
import Testing
import TestSupport

@testable import Checkpoints

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Atomic folder replacement")
struct AtomicFolderTests {
    /// A folder at `path` holding `file` with `content`.
    func folder(_ path: String, _ file: String, _ content: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try content.write(toFile: "\(path)/\(file)", atomically: false, encoding: .utf8)
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// The id of a process that has exited (its id is not reused this soon).
    func deadProcessID() throws -> pid_t {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    @Test("a new folder replaces the old one whole, by exchange and by the fallback; a missing one is renamed in")
    func replaces() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for exchange in [true, false] {
            let out = "\(dir)/out-\(exchange)"
            try folder(out, "old.txt", "old")
            let fresh = try makeTemporaryFolder(beside: out, label: "checkpoint")
            #expect(fresh.hasPrefix("\(dir)/.out-\(exchange).checkpoint-\(getpid())-"))
            var st = stat()
            #expect(stat(fresh, &st) == 0 && st.st_mode & 0o777 != 0o700, "a new folder's permissions, not mkdtemp's")
            try "new".write(toFile: "\(fresh)/new.txt", atomically: false, encoding: .utf8)
            let previous = try #require(try replaceFolder(out, with: fresh, exchange: exchange))
            #expect(read("\(out)/new.txt") == "new" && read("\(out)/old.txt") == nil)
            #expect(read("\(previous)/old.txt") == "old", "the previous folder is handed back for removal")
        }
        let fresh = try makeTemporaryFolder(beside: "\(dir)/absent", label: "checkpoint")
        #expect(try replaceFolder("\(dir)/absent", with: fresh) == nil)
        #expect(
            FileManager.default.fileExists(atPath: "\(dir)/absent") && !FileManager.default.fileExists(atPath: fresh))
    }

    @Test("stale folders of dead writers are removed, live ones kept; a folder moved aside is put back when missing")
    func staleFolders() throws {
        let dir = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = "\(dir)/out"
        let dead = try deadProcessID()
        try folder("\(dir)/.out.checkpoint-\(dead)-abcdef", "partial.txt", "partial")
        try folder("\(dir)/.out.checkpoint-\(getpid())-ghijkl", "mine.txt", "in progress")
        try folder("\(dir)/.out.previous-\(dead)-mnopqr", "old.txt", "previous checkpoint")
        try folder("\(dir)/.other.checkpoint-\(dead)-stuvwx", "x.txt", "another folder's")
        // `out` is missing: a fallback replacement was cut between its two renames.
        let handled = removeStaleTemporaryFolders(beside: out)
        #expect(handled.count == 2, "\(handled)")
        #expect(read("\(out)/old.txt") == "previous checkpoint")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == [".other.checkpoint-\(dead)-stuvwx", ".out.checkpoint-\(getpid())-ghijkl", "out"], "\(left)")
        // With `out` present, a moved-aside folder is stale.
        try folder("\(dir)/.out.previous-\(dead)-yzabcd", "old.txt", "older")
        #expect(removeStaleTemporaryFolders(beside: out) == ["\(dir)/.out.previous-\(dead)-yzabcd"])
        #expect(read("\(out)/old.txt") == "previous checkpoint")
    }
}
