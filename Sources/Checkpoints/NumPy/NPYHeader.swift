// The NPY header (docs/FORMATS.md §2.1–2.4): magic, version, the Python dict text, and `descr` strings.
import TensorCore

/// Options for reading NPY data.
public struct NPYReadOptions: Sendable, Equatable {
    /// Read 2-byte void arrays (`<V2`, `|V2`, as ml_dtypes saves bfloat16) as bf16 instead of refusing them.
    public var voidAsBF16: Bool
    /// Check ZIP CRC-32s of NPZ members (skip for speed on trusted files).
    public var verifyCRC: Bool

    public init(voidAsBF16: Bool = false, verifyCRC: Bool = true) {
        self.voidAsBF16 = voidAsBF16
        self.verifyCRC = verifyCRC
    }
}

/// A parsed NPY header: what the array is and where its data starts.
public struct NPYHeader: Sendable, Equatable {
    /// The `descr` string as written (`<f4`, `|b1`, `>i8`, `|V2`…).
    public let descr: String
    public let dtype: DType
    /// Elements are stored big-endian and must be byte-swapped.
    public let bigEndian: Bool
    /// Elements are stored column-major and must be transposed into row-major.
    public let fortranOrder: Bool
    public let shape: Shape
    /// Bytes from the start of the file (or member) to the array data: 10 or 12 + HEADER_LEN.
    public let dataOffset: Int
    /// `product(shape) × itemsize`, overflow-checked.
    public let dataByteCount: Int
    /// True when the dtype came from a void descr the caller declared to be bf16.
    public let voidDeclaredBF16: Bool

    /// The NPY magic `\x93NUMPY`.
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// numpy's limit on the header text (`max_header_size`).
    public static let maxHeaderLength = 10_000

    /// How many leading bytes hold the whole header, from the first 12 bytes (or fewer for v1):
    /// nil when `prefix` does not start with the magic; throws for unknown versions.
    public static func headerSize(prefix: UnsafeRawBufferPointer, file: String, tensor: String?) throws -> Int? {
        guard prefix.count >= 6, zip(magic, prefix.prefix(6)).allSatisfy({ $0 == $1 }) else { return nil }
        let what = tensor.map { "array `\($0)`" } ?? "NPY header"
        guard prefix.count >= 10 else {
            throw CheckpointError(.truncated, file: file, tensor: tensor, "\(what): file ends inside the NPY preamble")
        }
        let major = prefix[6], minor = prefix[7]
        guard (1...3).contains(major), minor == 0 else {
            throw CheckpointError(
                .unsupportedContent, file: file, tensor: tensor,
                "\(what): NPY format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        let length: Int
        if major == 1 {
            length = Int(ByteReader.peek(UInt16.self, in: prefix, at: 8)!)
            return 10 + min(length, maxHeaderLength + 1)
        }
        guard let l32 = ByteReader.peek(UInt32.self, in: prefix, at: 8) else {
            throw CheckpointError(.truncated, file: file, tensor: tensor, "\(what): file ends inside the NPY preamble")
        }
        return 12 + min(Int(l32), maxHeaderLength + 1)
    }

    /// Parses the header at the start of `bytes` (which must hold at least `headerSize(prefix:)` bytes).
    /// - Parameters:
    ///   - file, tensor: named in errors.
    /// - Throws: `CheckpointError` for a bad magic or version, a header over 10 000 characters, a malformed
    ///   dict, missing or extra keys, object, string, structured or unknown dtypes, and size overflow.
    public static func parse(_ bytes: UnsafeRawBufferPointer, file: String, tensor: String?, options: NPYReadOptions)
        throws -> NPYHeader
    {
        let what = tensor.map { "array `\($0)`" } ?? "NPY header"
        func fail(_ kind: CheckpointError.Kind, _ m: String) -> CheckpointError {
            CheckpointError(kind, file: file, tensor: tensor, "\(what): \(m)")
        }
        guard let total = try headerSize(prefix: bytes, file: file, tensor: tensor) else {
            throw fail(.formatMismatch, "does not start with the NPY magic \\x93NUMPY")
        }
        let major = bytes[6]
        let start = major == 1 ? 10 : 12
        let length = total - start
        guard length <= maxHeaderLength else {
            throw fail(
                .headerTooLarge,
                "header longer than \(maxHeaderLength) characters; numpy refuses it too (max_header_size)")
        }
        guard total <= bytes.count else { throw fail(.truncated, "file ends inside the \(length)-byte header") }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<total])
        let text: String
        if major == 3 {
            guard let t = String(validating: raw, as: UTF8.self) else {
                throw fail(.corrupt, "header text is not valid UTF-8")
            }
            text = t
        } else {
            text = String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))  // latin-1
        }
        let dict: [(key: PythonLiteral, value: PythonLiteral)]
        do {
            guard case .dict(let d) = try PythonLiteral.parse(text) else {
                throw fail(.corrupt, "header is not a Python dict")
            }
            dict = d
        } catch let e as PythonLiteralError {
            throw fail(.corrupt, "header is not a valid Python literal (\(e))")
        }
        var descrValue: PythonLiteral?, fortranValue: PythonLiteral?, shapeValue: PythonLiteral?
        for (key, value) in dict {
            guard case .string(let k) = key else { throw fail(.corrupt, "header keys must be strings") }
            switch k {
            case "descr" where descrValue == nil: descrValue = value
            case "fortran_order" where fortranValue == nil: fortranValue = value
            case "shape" where shapeValue == nil: shapeValue = value
            default:
                throw fail(
                    .corrupt,
                    "unexpected or repeated header key '\(k)'; expected exactly descr, fortran_order and shape")
            }
        }
        guard let descrValue, let fortranValue, let shapeValue else {
            throw fail(
                .corrupt,
                "header lacks \([descrValue == nil ? "descr" : nil, fortranValue == nil ? "fortran_order" : nil, shapeValue == nil ? "shape" : nil].compactMap { $0 }.joined(separator: ", "))"
            )
        }
        guard case .bool(let fortran) = fortranValue else {
            throw fail(.corrupt, "fortran_order must be True or False")
        }
        guard case .tuple(let dims) = shapeValue else { throw fail(.corrupt, "shape must be a tuple of integers") }
        var dimensions: [Int] = []
        for d in dims {
            guard case .int(let n) = d, n >= 0 else { throw fail(.corrupt, "shape must hold non-negative integers") }
            dimensions.append(n)
        }
        let descr: String
        switch descrValue {
        case .string(let s): descr = s
        case .list:
            throw fail(
                .unsupportedDType,
                "structured dtype (a list of fields) is not a tensor; save each field as its own array")
        default: throw fail(.corrupt, "descr must be a string")
        }
        let (dtype, bigEndian) = try parseDescr(descr, options: options, fail: fail)
        let shape = Shape(dimensions)
        guard let byteCount = shape.checkedByteCount(dtype) else {
            throw fail(.validationOverflow, "overflow computing the size of shape \(shape)")
        }
        return NPYHeader(
            descr: descr, dtype: dtype, bigEndian: bigEndian, fortranOrder: fortran, shape: shape,
            dataOffset: total, dataByteCount: byteCount, voidDeclaredBF16: dtype == .bf16)
    }

    /// Maps a `descr` to a dtype and byte order (table 2.3).
    static func parseDescr(
        _ descr: String, options: NPYReadOptions,
        fail: (CheckpointError.Kind, String) -> CheckpointError
    ) throws -> (DType, Bool) {
        var body = Substring(descr)
        var bigEndian = false
        if let first = body.first, "<>|=".contains(first) {
            bigEndian = first == ">"
            body = body.dropFirst()
        }
        let table: [String: DType] = [
            "b1": .bool, "i1": .i8, "u1": .u8, "i2": .i16, "u2": .u16, "i4": .i32, "u4": .u32, "i8": .i64, "u8": .u64,
            "f2": .f16, "f4": .f32, "f8": .f64, "c8": .c64,
        ]
        if let dtype = table[String(body)] { return (dtype, bigEndian && dtype.itemSize > 1) }
        switch body.first {
        case "O":
            throw fail(
                .unsupportedDType,
                "object dtype '\(descr)' is a pickle of Python objects, not a tensor; it is refused for safety")
        case "S", "U", "a":
            throw fail(.unsupportedDType, "string dtype '\(descr)' is not a tensor")
        case "V" where body == "V2" && options.voidAsBF16:
            return (.bf16, false)
        case "V":
            throw fail(
                .unsupportedDType,
                body == "V2"
                    ? "void dtype '\(descr)' has no type name (ml_dtypes saves bfloat16 this way); it is read as bf16 only when declared (convert --keep-bf16)"
                    : "void dtype '\(descr)' has no type name (an ml_dtypes type such as float8 lost it); only 2-byte voids can be declared bf16"
            )
        case "c" where body == "c16":
            throw fail(
                .unsupportedDType, "complex128 ('\(descr)') is not supported; convert it with numpy to complex64 first")
        default:
            throw fail(.unsupportedDType, "dtype '\(descr)' is not supported")
        }
    }
}
