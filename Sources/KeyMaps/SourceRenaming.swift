// Renaming a stream of tensors for `convert --names keep|hf|tf`, transforms applied lazily per tensor
// (docs/FORMATS.md §3.4–3.6, §4.4; bare § numbers below are that document's).
import Checkpoints
import TensorCore

/// The naming convention of converted output.
public enum NameStyle: String, Sendable, CaseIterable {
    /// Names as the source has them.
    case keep
    /// Hugging Face PyTorch keys: TF names mapped (§3.4), then §4.4 normalization (prefixes, gamma/beta, buffers dropped).
    case hf
    /// TF weight names without the model name (§3.5/§3.6), kernels transposed, GPT-2 biases [1, n].
    case tf
}

/// Sources after renaming, with what the writer needs to know.
public struct RenamedSources: Sendable {
    public let sources: [TensorSource]
    /// For `tf`: the Keras model class (HDF5 output then uses the Keras layout).
    public let tfModelClass: KerasModelClass?
    /// What was renamed, dropped or tied, for the report.
    public let notes: [String]
}

/// True when `names` look like TF weight names (`…/…:0`) rather than PyTorch keys.
public func looksLikeTFNames(_ names: [String]) -> Bool {
    !names.isEmpty && names.allSatisfy { $0.contains("/") && $0.hasSuffix(":0") }
}

/// Renames `sources` to `style` with the name maps of the families `maps` (the first that recognises the names).
/// `file` names the source in errors.
/// - Throws: `CheckpointError` when a key has no mapping (listed) or a shape does not fit its transform.
public func renameSources(_ sources: [TensorSource], to style: NameStyle, maps: [KeyMap], file: String) throws
    -> RenamedSources
{
    switch style {
    case .keep:
        return RenamedSources(sources: sources, tfModelClass: nil, notes: [])
    case .hf:
        return try pytorchNamed(sources, maps: maps, file: file)
    case .tf:
        let base = try pytorchNamed(sources, maps: maps, file: file)
        let plan = try TFNamePlan.fromPyTorch(base.sources.map(\.info.name), maps: maps, file: file)
        let byName = Dictionary(base.sources.map { (UTF8Key($0.info.name), $0) }, uniquingKeysWith: { a, _ in a })
        let renamed = try plan.entries.compactMap { entry -> TensorSource? in
            guard let source = byName[UTF8Key(entry.source)] else { return nil }
            guard let shape = entry.transform.tfShape(forPyTorch: source.info.shape) else {
                throw CheckpointError(
                    .invalidArgument, file: file, tensor: entry.source,
                    "`\(entry.source)` has shape \(source.info.shape), which does not fit the TF \(entry.transform.rawValue) of `\(entry.tfName)`; is this the right architecture?"
                )
            }
            let load = source.load, transform = entry.transform, key = entry.source
            return TensorSource(info: TensorInfo(name: entry.tfName, dtype: source.info.dtype, shape: shape)) {
                try transform.toTF(try load(), file: file, tensor: key)
            }
        }
        var notes = base.notes + ["PyTorch names mapped to TF names of \(plan.modelClass.name)"]
        if !plan.tied.isEmpty { notes.append("tied keys not written: \(plan.tied.joined(separator: ", "))") }
        if !plan.dropped.isEmpty { notes.append("buffers not written: \(plan.dropped.joined(separator: ", "))") }
        return RenamedSources(sources: renamed, tfModelClass: plan.modelClass, notes: notes)
    }
}

/// TF names → PyTorch keys, then §4.4 normalization with buffers dropped.
private func pytorchNamed(_ sources: [TensorSource], maps: [KeyMap], file: String) throws -> RenamedSources {
    var current = sources
    var notes: [String] = []
    if looksLikeTFNames(current.map(\.info.name)) {
        // Full weight names start with the model name (`tf_bert_model/…`); sharded TF files and TF safetensors
        // store them without it (§3.6).
        let split = current.map { splitModelName($0.info.name) }
        let hasModel = split.allSatisfy { $0.map { $0.model.hasPrefix("tf_") || $0.model.hasPrefix("tfgp_") } ?? false }
        let stripped = hasModel ? split.map { $0?.rest ?? "" } : current.map(\.info.name)
        let models = hasModel ? Set(split.compactMap { $0?.model }) : []
        let plan = try PyTorchNamePlan.fromTF(stripped, modelNames: models, maps: maps, file: file)
        current = try zip(current, plan.entries).map { source, entry in
            let shape = try entry.transform.pytorchShape(forTF: source.info.shape, file: file, tensor: source.info.name)
            let load = source.load, transform = entry.transform, name = source.info.name
            return TensorSource(info: TensorInfo(name: entry.key, dtype: source.info.dtype, shape: shape)) {
                try transform.toPyTorch(try load(), file: file, tensor: name)
            }
        }
        notes += plan.notes
    }
    guard let map = KeyMap.recognizing(keys: current.map(\.info.name), among: maps) else {
        return RenamedSources(sources: current, tfModelClass: nil, notes: notes)
    }
    let pairs = KeySanitizer(map: map, basePrefix: .add).normalizedNames(current.map(\.info.name))
    var out: [TensorSource] = []
    var dropped: [String] = []
    var renamed = 0
    for (source, names) in zip(current, pairs) {
        if map.isBuffer(names.key) { dropped.append(names.original); continue }
        if UTF8Key(names.key) != UTF8Key(names.original) { renamed += 1 }
        let info = TensorInfo(name: names.key, dtype: source.info.dtype, shape: source.info.shape)
        out.append(TensorSource(info: info, load: source.load))
    }
    if renamed > 0 { notes.append("\(renamed) keys normalized to Hugging Face \(map.family) names") }
    if !dropped.isEmpty { notes.append("buffers dropped: \(dropped.joined(separator: ", "))") }
    return RenamedSources(sources: out, tfModelClass: nil, notes: notes)
}
