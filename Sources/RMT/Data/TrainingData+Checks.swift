// The checks a data file passes before training starts (docs/RMT.md §8.7), each failing with one line that names
// the file, the key and what to do. Everything a batch could refuse mid-run is refused here, at reading.
import Checkpoints
import TensorCore

/// The tensors of one data file, read as integers and checked key by key.
struct DataFile {
    let archive: any TensorArchive
    var path: String { archive.path }

    /// Ids and labels are int64 or int32 (as `numpy.savez` writes them).
    static let idDTypes: [DType] = [.i64, .i32]
    /// Masks may be bool or any integer type holding 0 and 1.
    static let maskDTypes: [DType] = [.bool, .i64, .i32, .i16, .i8, .u8]

    func error(_ key: String, _ message: String, kind: CheckpointError.Kind = .invalidArgument) -> CheckpointError {
        CheckpointError(kind, file: path, tensor: key, "`\(key)` \(message)")
    }

    func refuseUnknownKeys() throws {
        let unknown = archive.tensorNames.filter { !TrainingData.keys.contains($0) }
        guard let first = unknown.first else { return }
        throw error(
            first,
            "is not a data key (\(unknown.count == 1 ? "" : "nor are \(unknown.dropFirst().joined(separator: ", ")); ")data files hold \(TrainingData.keys.joined(separator: ", ")) only); rename or remove it"
        )
    }

    /// The tensor `key` as `Int`s with its shape, or nil when the file lacks it (an error when `required`).
    func integers(_ key: String, dtypes: [DType], required: Bool = false) throws -> (values: [Int], shape: [Int])? {
        guard let info = archive.tensorInfos.first(where: { $0.name == key }) else {
            guard !required else {
                throw error(
                    key,
                    "is missing (the file holds \(archive.tensorNames.isEmpty ? "nothing" : archive.tensorNames.joined(separator: ", "))); every data file needs `\(key)` [N, T]",
                    kind: .tensorNotFound)
            }
            return nil
        }
        guard dtypes.contains(info.dtype) else {
            throw error(
                key,
                "is \(info.dtype.rawValue); expected \(dtypes.map(\.rawValue).joined(separator: " or ")) (save it with numpy as \(dtypes == DataFile.idDTypes ? "int64" : "bool or int64"))",
                kind: .unsupportedDType)
        }
        let values = try archive.tensor(named: key).int64Values()
        return (values.map { Int(truncatingIfNeeded: $0) }, info.shape.dimensions)
    }

    func expect(_ tensor: (values: [Int], shape: [Int]), shape: [Int], key: String) throws {
        guard tensor.shape == shape else {
            throw error(
                key, "is \(tensor.shape) but must be \(shape)\(shape.count == 2 ? ", the shape of input_ids" : "")")
        }
    }

    func expectBinary(_ tensor: (values: [Int], shape: [Int]), T: Int, key: String) throws {
        if let i = tensor.values.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw error(key, "holds \(tensor.values[i]) at row \(i / T), column \(i % T); masks hold only 0 and 1")
        }
    }

    /// Ids in `0..<V`; for the encoder, no memory id and at least one id per row besides special tokens.
    func checkIds(_ ids: [Int], T: Int, requirements req: TrainingDataRequirements) throws {
        let V = req.vocabularySize
        guard let i = ids.firstIndex(where: { !(0..<V).contains($0) }) else {
            if let special = req.special?.all {
                for r in 0..<(ids.count / T) where ids[(r * T)..<((r + 1) * T)].allSatisfy(special.contains) {
                    throw error(
                        "input_ids",
                        "row \(r) holds only special tokens and padding (ids \(special.sorted().map(String.init).joined(separator: ", "))), which the encoder strips, leaving it nothing to read; remove the row"
                    )
                }
            }
            return
        }
        let (id, at) = (ids[i], "at row \(i / T), column \(i % T)")
        if req.variant == .encoder, (V..<(V + req.memoryTokens)).contains(id) {
            throw error(
                "input_ids",
                "holds memory id \(id) \(at); ids \(V)..\(V + req.memoryTokens - 1) are the memory tokens, which the encoder inserts itself: remove them"
            )
        }
        throw error(
            "input_ids",
            "holds \(id) \(at); token ids must be in 0..<\(V), the model's vocabulary: re-make the data or use a model with a larger vocabulary"
        )
    }

    /// Every decoder row scores at least one position (docs/RMT.md §2.6: `t ≤ T−2`, `labels[t+1] ≠ −100`,
    /// `labels_mask[t]`), so no batch can fail with "no position is scored" mid-run.
    func checkScoredPositions(labels: [Int], mask: [Int]?, N: Int, T: Int, defaulted: Bool) throws {
        guard T >= 2 else {
            throw error(
                "input_ids",
                "has rows of one token; position t is scored against the label at t+1, so rows need at least 2 tokens")
        }
        for r in 0..<N {
            let scores = (0..<(T - 1)).contains { t in
                labels[r * T + t + 1] != -100 && (mask.map { $0[r * T + t] != 0 } ?? true)
            }
            guard scores else {
                let key = defaulted ? "labels_mask" : "labels"
                throw error(
                    key,
                    "leaves row \(r) with no scored position (every label after column 0 is −100, or its predicting position is masked out by labels_mask); give the row a label or remove it"
                )
            }
        }
    }
}
