import Foundation
import Testing
import TestSupport

@Suite("fixtures")
struct FixtureManifestTests {
    @Test("every fixture matches its SHA-256 in fixtures/MANIFEST.sha256, and every file is listed")
    func manifest() throws {
        let dir = Fixtures.path("")
        let check = try runCommand(
            "/usr/bin/env", ["sha256sum", "--quiet", "--strict", "-c", "MANIFEST.sha256"], in: dir)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let listed = Set(
            try String(contentsOfFile: "\(dir)/MANIFEST.sha256", encoding: .utf8)
                .split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1].dropFirst()) })
        var onDisk = Set<String>()
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let rel = enumerator?.nextObject() as? String {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(dir)/\(rel)", isDirectory: &isDir)
            if !isDir.boolValue, rel != "MANIFEST.sha256", rel != "README.md" { onDisk.insert(rel) }
        }
        #expect(onDisk.subtracting(listed).isEmpty, "unlisted fixtures: \(onDisk.subtracting(listed).sorted())")
    }
}
