// Reading `pytorch_model.bin` / `.pt` / `.pth` files written by torch.save (docs/FORMATS.md §5): the zip format of
// torch ≥ 1.6 and, read-only, the legacy concatenated-pickle format. Nothing in the file is ever executed.
import TensorCore

/// A torch checkpoint opened for reading.
///
/// Opening maps the file, unpickles `data.pkl` with the restricted `Unpickler`, locates the state dict and
/// checks every tensor's view against its storage record; no tensor data is read. `tensor(named:)` then
/// returns a zero-copy view of the mapped file for contiguous little-endian tensors in stored records, and
/// a copy otherwise (strided or stride-0 views, big-endian archives, deflated records).
public final class TorchArchive: TensorArchive {
    public let path: String
    public var format: CheckpointFormat { .torch }
    /// Stored tensors, in state-dict order (tied names are in `aliases`).
    public let tensorInfos: [TensorInfo]
    public let aliases: [UTF8Key: String]
    public let notes: [String]
    /// The whole unpickled object (for nested checkpoints: epoch, optimizer state, … as plain values).
    public let root: PickleValue
    /// The state dict and where it was found.
    public let stateDict: TorchStateDict
    /// True for the legacy (torch < 1.6) format.
    public let isLegacy: Bool
    /// True when the archive's `byteorder` record (or the legacy header) says big-endian.
    public let isBigEndian: Bool

    private let file: MappedFile
    private let zipArchive: ZipArchive?
    private let records: [UTF8Key: TorchStorageRecord]
    private let references: [UTF8Key: TorchTensorReference]
    private var verifiedRecords = Set<UTF8Key>()
    /// The record folder of a zip archive (`archive`, `pytorch_model`, …).
    public let folder: String?

    /// Opens a torch checkpoint.
    /// - Parameters:
    ///   - path: the file.
    ///   - stateDictKey: for nested checkpoints, the top-level key holding the weights; nil tries the top level,
    ///     then `state_dict`, `model_state_dict`, `model`, `module`.
    /// - Throws: `CheckpointError` for TorchScript, tar-format, non-torch or corrupt files, unsupported
    ///   globals, and tensors whose views do not fit their storage.
    public init(path: String, stateDictKey: String? = nil) throws {
        self.path = path
        do { file = try MappedFile(path: path) } catch let e as MappedFileError {
            throw CheckpointError(.io, file: path, "cannot open: \(e.reason)")
        }
        let bytes = file.bytes
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + signature.count
                && Swift.zip(signature, bytes[offset..<offset + signature.count]).allSatisfy { $0 == $1 }
        }
        let rootRecords: [UTF8Key: TorchStorageRecord]
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) {
            let zip = try ZipArchive(file: file, path: path)
            let layout = try TorchArchive.readZipLayout(zip, path: path)
            zipArchive = zip
            folder = layout.folder
            root = layout.root
            isBigEndian = layout.bigEndian
            rootRecords = layout.records
            isLegacy = false
        } else if starts(TorchLegacyFormat.signature) {
            let legacy = try TorchLegacyFormat.read(bytes, path: path)
            zipArchive = nil
            folder = nil
            root = legacy.root
            isBigEndian = !legacy.littleEndian
            rootRecords = legacy.records.mapValues { .mapped($0) }
            isLegacy = true
        } else if starts(Array("ustar".utf8), at: 257) {
            throw CheckpointError(
                .unsupportedContent, file: path,
                "is a tar-format torch checkpoint (torch < 0.4), which is not supported; load it with an old torch and save it again with torch.save"
            )
        } else {
            throw CheckpointError(
                .formatMismatch, file: path,
                "is not a torch checkpoint (neither a torch zip archive nor a legacy torch pickle); pass --format if it is another format"
            )
        }
        records = rootRecords
        stateDict = try TorchStateDict.locate(in: root, key: stateDictKey, file: path)
        var references: [UTF8Key: TorchTensorReference] = [:]
        for (name, reference) in stateDict.tensors {
            let recordName = folder.map { "\($0)/data/\(reference.storage.key)" } ?? "storage \(reference.storage.key)"
            try TorchTensorMaterializer.validate(
                reference, name: name, record: rootRecords[UTF8Key(reference.storage.key)],
                recordName: recordName, file: path)
            references[UTF8Key(name)] = reference
        }
        self.references = references
        tensorInfos = stateDict.tensors.map {
            TensorInfo(name: $0.name, dtype: $0.reference.dtype, shape: $0.reference.shape)
        }
        aliases = stateDict.aliases
        var notes = stateDict.notes
        if isLegacy { notes.append("legacy (pre-1.6) torch format") }
        if isBigEndian { notes.append("big-endian storages byte-swapped to little-endian") }
        self.notes = notes
    }

    public func tensor(named name: String) throws -> Tensor {
        guard let reference = references[UTF8Key(name)] ?? aliases[UTF8Key(name)].flatMap({ references[UTF8Key($0)] })
        else {
            throw CheckpointError(.tensorNotFound, file: path, tensor: name, "tensor `\(name)` not found")
        }
        let key = UTF8Key(reference.storage.key)
        guard let record = records[key] else {  // validated at open; kept as a check, not a crash
            throw CheckpointError(.corrupt, file: path, tensor: name, "tensor `\(name)`: storage `\(key)` is missing")
        }
        do {
            switch record {
            case .mapped(let range):
                if let zip = zipArchive, let folder, !verifiedRecords.contains(key),
                    let entry = zip.entry(named: "\(folder)/data/\(key.string)")
                {
                    _ = try zip.contents(of: entry, verifyCRC: true)
                    verifiedRecords.insert(key)
                }
                return try TorchTensorMaterializer.tensor(
                    reference, recordBytes: UnsafeRawBufferPointer(rebasing: file.bytes[range]),
                    file: file, mappedBase: range.lowerBound, bigEndian: isBigEndian)
            case .deflated(let entry):
                guard let zip = zipArchive else {
                    throw CheckpointError(.corrupt, file: path, tensor: name, "deflated record outside a zip")
                }
                let storage = try zip.contents(of: entry, verifyCRC: true)
                return try TorchTensorMaterializer.tensor(
                    reference, recordBytes: storage.bytes, file: nil, mappedBase: nil,
                    bigEndian: isBigEndian)
            }
        } catch let error as TensorError {
            throw CheckpointError(.corrupt, file: path, tensor: name, "tensor `\(name)`: \(error)")
        }
    }

    // MARK: - Zip layout (§5.1)

    struct ZipLayout {
        let folder: String
        let root: PickleValue
        let bigEndian: Bool
        let records: [UTF8Key: TorchStorageRecord]
    }

    static func readZipLayout(_ zip: ZipArchive, path: String) throws -> ZipLayout {
        guard let first = zip.entries.first else {
            throw CheckpointError(.formatMismatch, file: path, "is an empty ZIP archive, not a torch checkpoint")
        }
        guard let slash = first.name.firstIndex(of: "/") else {
            throw CheckpointError(
                .formatMismatch, file: path,
                "is a ZIP archive whose first member `\(first.name)` is not inside a folder, so not a torch checkpoint (an .npz? pass --format)"
            )
        }
        let folder = String(first.name[..<slash])
        if zip.entries.contains(where: { $0.name == "\(folder)/constants.pkl" || $0.name.hasPrefix("\(folder)/code/") })
        {
            throw CheckpointError(
                .unsupportedContent, file: path,
                "is a TorchScript model (torch.jit.save: constants.pkl, code/), not a state dict; load it with torch.jit.load and save `model.state_dict()` with torch.save"
            )
        }
        guard let pickle = zip.entry(named: "\(folder)/data.pkl") else {
            throw CheckpointError(
                .formatMismatch, file: path,
                "is a ZIP archive without `\(folder)/data.pkl`, so not a torch checkpoint; pass --format if it is an .npz"
            )
        }
        guard zip.entry(named: "\(folder)/version") ?? zip.entry(named: "\(folder)/.data/version") != nil else {
            throw CheckpointError(
                .corrupt, file: path, tensor: "\(folder)/version",
                "torch archive lacks its `\(folder)/version` record, which torch.load requires; the file is truncated or was not written by torch.save"
            )
        }
        var bigEndian = false
        if let order = zip.entry(named: "\(folder)/byteorder") {
            let text = String(decoding: try zip.contents(of: order).bytes, as: UTF8.self)
            switch text {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default:
                throw CheckpointError(
                    .corrupt, file: path, tensor: "\(folder)/byteorder",
                    "`\(folder)/byteorder` says `\(text.prefix(20))`, expected `little` or `big`")
            }
        }
        let pickleBytes = try zip.contents(of: pickle)
        var unpickler = Unpickler(pickleBytes.bytes, file: path, record: pickle.name)
        let root = try unpickler.load()
        var records: [UTF8Key: TorchStorageRecord] = [:]
        let prefix = "\(folder)/data/"
        for entry in zip.entries where entry.name.hasPrefix(prefix) {
            let key = UTF8Key(String(entry.name.dropFirst(prefix.count)))
            records[key] = entry.compression == .stored ? .mapped(entry.dataRange) : .deflated(entry)
        }
        return ZipLayout(folder: folder, root: root, bigEndian: bigEndian, records: records)
    }
}
