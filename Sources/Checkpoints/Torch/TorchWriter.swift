// Writing torch.save-compatible zip archives (docs/FORMATS.md §5.6), loadable by `torch.load(weights_only=True)`.
import TensorCore

/// Writes state dicts (and nested checkpoints around them) in torch's zip format.
///
/// Record order is torch's: `data.pkl`, `.format_version`, `.storage_alignment`, `byteorder`, `data/0` …,
/// `version`, every record stored with its data 64-byte aligned and the ZIP64 end record always present.
/// Each stored tensor becomes one storage record, loaded from its `TensorSource` and written before the next
/// is loaded; an alias reuses its target's record, so torch shares memory between the two names.
public enum TorchWriter {
    /// The record folder for an output path: the file stem when it matches `[A-Za-z0-9._-]+`, else `archive`.
    public static func folderName(for path: String) -> String {
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let stem = base.lastIndex(of: ".").map { String(base[..<$0]) } ?? base
        let allowed = stem.utf8.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x2E
                || c == 0x5F || c == 0x2D
        }
        return !stem.isEmpty && allowed ? stem : "archive"
    }

    /// Writes `sources` as a state dict to `path`, atomically.
    /// - Parameters:
    ///   - aliases: tied names, alias → stored name (e.g. `lm_head.weight` → `transformer.wte.weight`); each is
    ///     written after the stored tensors, sharing its target's storage. Chains are followed.
    ///   - nested: when given, the top level is a plain dict with these entries, the `.stateDict` entry holding
    ///     the tensors (e.g. `TorchWriter.modelStateDictCheckpoint`); nil writes the state dict itself.
    ///   - overwrite: replace an existing file (otherwise `.alreadyExists`).
    ///   - progress: called with the storage bytes written so far after each tensor.
    /// - Throws: `CheckpointError` for names `TensorNamePolicy` refuses, duplicate names, aliases to unknown tensors, a tensor that loads
    ///   with another dtype or shape than declared, or an I/O failure; nothing is left at `path` then.
    public static func write(
        _ sources: [TensorSource], aliases: [UTF8Key: String] = [:], to path: String,
        nested: [(key: String, value: TorchCheckpointEntry)]? = nil, overwrite: Bool,
        progress: ((Int) -> Void)? = nil
    ) throws {
        let plan = try layout(sources, aliases: aliases, path: path)
        let pickle: [UInt8]
        if let nested {
            guard nested.filter({ $0.value == .stateDict }).count == 1 else {
                throw CheckpointError(
                    .invalidArgument, file: path, "a nested checkpoint needs exactly one state-dict entry")
            }
            pickle = try PickleWriter.nestedCheckpoint(nested, stateDict: plan)
        } else {
            pickle = PickleWriter.stateDict(plan)
        }
        let folder = folderName(for: path)
        let zip = try ZipWriter(path: path, overwrite: overwrite, alignment: 64, alwaysWriteZip64End: true)
        do {
            try zip.add(name: "\(folder)/data.pkl", bytes: pickle, align: true)
            try zip.add(name: "\(folder)/.format_version", bytes: Array("1".utf8), align: true)
            try zip.add(name: "\(folder)/.storage_alignment", bytes: Array("64".utf8), align: true)
            try zip.add(name: "\(folder)/byteorder", bytes: Array("little".utf8), align: true)
            var written = 0
            for (index, source) in sources.enumerated() {
                try zip.add(name: "\(folder)/data/\(index)", byteCount: source.info.byteCount, align: true) { emit in
                    try source.forEachChunk(file: path) { try emit($0) }
                }
                written += source.info.byteCount
                progress?(written)
            }
            try zip.add(name: "\(folder)/version", bytes: Array("3\n".utf8), align: true)
            try zip.finish()
        } catch {
            zip.abort()
            throw error
        }
    }

    /// The entries of the older RMT trainer's `model_best.pth`: `{'model_state_dict': …, 'iteration': 0,
    /// 'epoch': 0}` (docs/RMT.md §5), with optional extra plain values after them.
    public static func modelStateDictCheckpoint(
        iteration: Int = 0, epoch: Int = 0,
        extra: [(key: String, value: PickleValue)] = []
    ) -> [(key: String, value: TorchCheckpointEntry)] {
        [("model_state_dict", .stateDict), ("iteration", .value(.int(iteration))), ("epoch", .value(.int(epoch)))]
            + extra.map { ($0.key, .value($0.value)) }
    }

    /// The pickled entries: one storage per source (keys `0`, `1`, … in order), then the aliases, sorted by
    /// name, each viewing its target's storage.
    static func layout(_ sources: [TensorSource], aliases: [UTF8Key: String], path: String) throws
        -> [TorchPickledTensor]
    {
        try TensorNamePolicy.check(sources.map(\.info.name) + aliases.keys.sorted().map(\.string), file: path)
        var entries: [TorchPickledTensor] = []
        var index: [UTF8Key: Int] = [:]
        for (i, source) in sources.enumerated() {
            let info = source.info
            guard index[UTF8Key(info.name)] == nil else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: info.name,
                    "tensor `\(info.name)` appears twice; names must be unique")
            }
            guard let bytes = info.shape.checkedByteCount(info.dtype) else {
                throw CheckpointError(
                    .validationOverflow, file: path, tensor: info.name,
                    "overflow computing the size of tensor `\(info.name)`")
            }
            index[UTF8Key(info.name)] = i
            entries.append(
                TorchPickledTensor(
                    name: info.name, dtype: info.dtype, shape: info.shape, storageKey: String(i),
                    storageByteCount: bytes))
        }
        for (key, firstTarget) in aliases.sorted(by: { $0.key < $1.key }) {
            let alias = key.string
            guard index[key] == nil else {
                throw CheckpointError(
                    .duplicateKey, file: path, tensor: alias, "`\(alias)` is both a tensor and an alias; drop one")
            }
            var target = firstTarget
            var seen: Set<UTF8Key> = [key]
            while index[UTF8Key(target)] == nil, let next = aliases[UTF8Key(target)],
                seen.insert(UTF8Key(target)).inserted
            {
                target = next
            }
            guard let stored = index[UTF8Key(target)] else {
                throw CheckpointError(
                    .invalidArgument, file: path, tensor: alias,
                    "alias `\(alias)` points to `\(firstTarget)`, which is not a tensor being written")
            }
            let t = entries[stored]
            entries.append(
                TorchPickledTensor(
                    name: alias, dtype: t.dtype, shape: t.shape, storageKey: t.storageKey,
                    storageByteCount: t.storageByteCount))
        }
        return entries
    }
}
