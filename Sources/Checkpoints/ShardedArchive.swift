// Sharded checkpoints: `*.index.json` plus shard files, read as one archive; and the shard writer.
import TensorCore

/// A checkpoint split over several files and described by an index (`model.safetensors.index.json`,
/// `pytorch_model.bin.index.json`), read as one archive (docs/FORMATS.md §1.7).
public final class ShardedArchive: TensorArchive {
    public let path: String
    public let format: CheckpointFormat
    public let tensorInfos: [TensorInfo]
    public let notes: [String]
    public let shards: [any TensorArchive]
    /// The shards' own metadata (that of the first shard; transformers writes the same `format` in each).
    public var metadata: [(key: String, value: String)] { shards.first?.metadata ?? [] }
    /// The index file's `metadata` object (`total_size`, …), as text.
    public let indexMetadata: [(key: String, value: String)]
    private let owner: [UTF8Key: Int]

    /// Opens the index at `indexPath` and every shard it names, using `open` for each shard file.
    ///
    /// Shards are file names in the index's own folder, and never index files themselves (names ending in
    /// `.index.json`, in any case): indexes do not nest, so no chain of them can lead back to itself (an index
    /// naming itself used to recurse until the stack overflowed).
    /// - Throws: `CheckpointError` (`.shardIndex`) when the index is malformed or names a path or another index, a
    ///   mapped tensor is missing from its shard, or a tensor appears in two shards.
    public init(indexPath: String, open: (String) throws -> any TensorArchive) throws {
        path = indexPath
        let file: MappedFile
        do { file = try MappedFile(path: indexPath) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: indexPath, "cannot open: \(e.reason)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(file.bytes) } catch {
            throw CheckpointError(.shardIndex, file: indexPath, "invalid JSON: \(error); the index file is corrupt")
        }
        guard case .object(let map)? = json["weight_map"] else {
            throw CheckpointError(
                .shardIndex, file: indexPath, tensor: "weight_map",
                "missing `weight_map` object; this is not a shard index")
        }
        let folder = indexPath.lastIndex(of: "/").map { String(indexPath[...$0]) } ?? ""
        var shardNames: [String] = []
        var expected: [UTF8Key: Set<UTF8Key>] = [:]
        for (tensor, value) in map {
            guard let shard = value.stringValue, !shard.contains("/"), !shard.contains("\\"), !shard.isEmpty,
                shard != ".", shard != ".."
            else {
                throw CheckpointError(
                    .shardIndex, file: indexPath, tensor: tensor,
                    "weight_map entry for `\(tensor)` is not a file name in the same folder")
            }
            guard !shard.lowercased().hasSuffix(".index.json") else {
                throw CheckpointError(
                    .shardIndex, file: indexPath, tensor: tensor,
                    "weight_map entry for `\(tensor)` names `\(shard)`, an index file; an index lists shard files only (indexes do not nest, so none can loop back to itself) — fix the index"
                )
            }
            if expected[UTF8Key(shard)] == nil { shardNames.append(shard) }
            expected[UTF8Key(shard), default: []].insert(UTF8Key(tensor))
        }
        var shards: [any TensorArchive] = []
        var infos: [TensorInfo] = []
        var owner: [UTF8Key: Int] = [:]
        var notes: [String] = []
        for name in shardNames {
            // A shard may not be a symlink to a file outside the index's folder either.
            do { try InputFile.checkInside(folder + name, folder: folder.isEmpty ? "." : folder) } catch let e
                as MappedFileError
            {
                throw CheckpointError(e, tensor: name)
            }
            let archive = try open(folder + name)
            let want = expected[UTF8Key(name)] ?? []
            let have = Set(archive.tensorNames.map { UTF8Key($0) })
            if let missing = want.subtracting(have).map(\.string).sorted(by: {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            })
            .first {
                throw CheckpointError(
                    .shardIndex, file: indexPath, tensor: missing,
                    "tensor `\(missing)` is mapped to \(name) but that shard does not contain it; the index and shards do not match"
                )
            }
            for info in archive.tensorInfos {
                if !want.contains(UTF8Key(info.name)) {
                    notes.append("tensor `\(info.name)` in \(name) is not listed in the index")
                }
                if owner[UTF8Key(info.name)] != nil {
                    throw CheckpointError(
                        .shardIndex, file: indexPath, tensor: info.name, "tensor `\(info.name)` appears in two shards")
                }
                owner[UTF8Key(info.name)] = shards.count
                infos.append(info)
            }
            shards.append(archive)
        }
        format = shards.first?.format ?? .safetensors
        self.shards = shards
        self.owner = owner
        tensorInfos = infos
        self.notes = notes + shards.flatMap(\.notes)
        var meta: [(key: String, value: String)] = []
        if case .object(let m)? = json["metadata"] {
            for (k, v) in m {
                if case .string(let s) = v {
                    meta.append((k, s))
                } else if case .number(let t) = v {
                    meta.append((k, t))
                }
            }
        }
        indexMetadata = meta
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let i = owner[UTF8Key(name)] else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        return try shards[i].tensor(named: name)
    }
}

/// Splits tensors into shards of at most `maxShardSize` bytes, in the given order: a new shard starts when
/// adding a tensor would exceed the limit and the current shard is not empty (transformers' rule).
public func planShards(_ infos: [TensorInfo], maxShardSize: Int) -> [[Int]] {
    var shards: [[Int]] = []
    var current: [Int] = []
    var size = 0
    for (i, info) in infos.enumerated() {
        if !current.isEmpty, size + info.byteCount > maxShardSize {
            shards.append(current)
            current = []
            size = 0
        }
        current.append(i)
        size += info.byteCount
    }
    if !current.isEmpty { shards.append(current) }
    return shards
}

/// The shard file name `<stem>-00001-of-00003.<ext>` (1-based, both numbers zero-padded to 5 digits).
public func shardFileName(stem: String, fileExtension: String, index: Int, count: Int) -> String {
    func pad(_ n: Int) -> String { let s = String(n); return String(repeating: "0", count: max(0, 5 - s.count)) + s }
    return "\(stem)-\(pad(index + 1))-of-\(pad(count)).\(fileExtension)"
}

/// The index JSON text: 2-space indentation, sorted keys, final newline, as transformers writes it.
public func shardIndexText(totalSize: Int, weightMap: [(tensor: String, file: String)]) -> String {
    JSONValue.object([
        ("metadata", .object([("total_size", .number(String(totalSize)))])),
        ("weight_map", .object(weightMap.map { ($0.tensor, JSONValue.string($0.file)) })),
    ]).prettyText(sortKeys: true)
}
