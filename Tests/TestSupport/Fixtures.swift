// Locations of the committed fixtures and the fetched real model, for every test target.
import Foundation

/// Paths to test inputs.
public enum Fixtures {
    /// The repository root (two levels above this file's folder).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `fixtures/<relative>`.
    public static func path(_ relative: String) -> String { "\(root)/fixtures/\(relative)" }

    /// The real all-MiniLM-L6-v2 folder fetched by `tools/fetch-minilm.sh` (run by `make test`).
    public static let miniLM = "\(root)/.cache/minilm/model"

    /// True when the fetched MiniLM folder has `file`; tests that need it are enabled only then, and say what is
    /// missing otherwise (the network is not always there).
    public static func hasMiniLM(_ file: String = "model.safetensors") -> Bool {
        FileManager.default.fileExists(atPath: "\(miniLM)/\(file)")
    }

    /// A fresh temporary folder, removed by the caller with `removeTemporary`.
    public static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "rmt-convert-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The bytes of a file.
    public static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes bytes to a file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Asserting closeness of float arrays: returns the max abs error, or nil when counts differ.
public func maxAbsError(_ a: [Float], _ b: [Float]) -> Float? {
    guard a.count == b.count else { return nil }
    var m: Float = 0
    for i in a.indices {
        if a[i].isNaN != b[i].isNaN { return .infinity }
        if !a[i].isNaN { m = max(m, abs(a[i] - b[i])) }
    }
    return m
}
