// String and string-list attributes in every encoding Keras and h5py produce (docs/FORMATS.md §3.1).
import CHDF5
import Checkpoints
#if canImport(Glibc)
    import Glibc
#endif

/// Attributes larger than this are refused before allocating (Keras chunks at 64 512 bytes per attribute).
let maxAttributeBytes = 256 << 20

extension H5Context {
    /// True when `object` has an attribute `name`.
    func hasAttribute(_ object: hid_t, _ name: String) -> Bool {
        H5Aexists(object, name) > 0
    }

    /// The strings of attribute `name`: variable-length or fixed (NULLTERM, NULLPAD, SPACEPAD), ASCII or
    /// UTF-8, scalar or a list. A non-string or empty attribute (Keras' f64 `(0,)` empty list) gives `[]`.
    func readStrings(_ object: hid_t, _ name: String, owner: String) throws -> [String] {
        let attr = try own(H5Aopen(object, name, h5Default), .attribute, "open attribute `\(name)` of `\(owner)`")
        let fileType = try own(H5Aget_type(attr.id), .datatype, "read the type of attribute `\(name)` of `\(owner)`")
        guard H5Tget_class(fileType.id) == H5T_STRING else { return [] }
        let space = try own(H5Aget_space(attr.id), .dataspace, "read the shape of attribute `\(name)` of `\(owner)`")
        let count = Int(H5Sget_simple_extent_npoints(space.id))
        guard count > 0 else { return [] }
        // Name lists hold thousands of entries at most; refuse absurd counts before allocating.
        guard count <= maxAttributeBytes / 16 else {
            throw CheckpointError(
                .corrupt, file: path, tensor: owner,
                "attribute `\(name)` of `\(owner)` claims \(count) strings; the file is corrupt")
        }
        let cset = H5Tget_cset(fileType.id)
        if H5Tis_variable_str(fileType.id) > 0 {
            let mem = try copyType(chdf5_T_C_S1())
            try check(H5Tset_size(mem.id, chdf5_T_VARIABLE()), "define a string type")
            try check(H5Tset_cset(mem.id, cset), "define a string type")
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try check(H5Aread(attr.id, mem.id, &pointers), "read attribute `\(name)` of `\(owner)`")
            defer { _ = H5Dvlen_reclaim(mem.id, space.id, h5Default, &pointers) }
            return pointers.map { $0.map { h5String($0) } ?? "" }
        }
        let width = H5Tget_size(fileType.id)
        guard width > 0, count.multipliedReportingOverflow(by: width).partialValue <= maxAttributeBytes else {
            throw CheckpointError(
                .corrupt, file: path, tensor: owner,
                "attribute `\(name)` of `\(owner)` is too large (\(count) strings of \(width) bytes)")
        }
        let pad = H5Tget_strpad(fileType.id)
        var bytes = [UInt8](repeating: 0, count: count * width)
        try check(H5Aread(attr.id, fileType.id, &bytes), "read attribute `\(name)` of `\(owner)`")
        return (0..<count).map { i in
            var item = bytes[(i * width)..<((i + 1) * width)]
            if pad == H5T_STR_SPACEPAD {
                while item.last == 0x20 || item.last == 0 { item.removeLast() }
            } else if let nul = item.firstIndex(of: 0) {
                item = item[..<nul]
            }
            return String(decoding: item, as: UTF8.self)
        }
    }

    /// A Keras string list: `name` if present, else `name0`, `name1`, … concatenated until one is missing;
    /// nil when neither form exists.
    func readStringList(_ object: hid_t, _ name: String, owner: String) throws -> [String]? {
        if hasAttribute(object, name) { return try readStrings(object, name, owner: owner) }
        guard hasAttribute(object, "\(name)0") else { return nil }
        var out: [String] = []
        var i = 0
        while hasAttribute(object, "\(name)\(i)") {
            out += try readStrings(object, "\(name)\(i)", owner: owner)
            i += 1
        }
        return out
    }

    /// Writes `values` as variable-length strings: a SCALAR attribute when `scalar`, else SIMPLE [count].
    func writeVariableStrings(
        _ object: hid_t, _ name: String, _ values: [String], scalar: Bool = false, utf8: Bool = false
    ) throws {
        let type = try copyType(chdf5_T_C_S1())
        try check(H5Tset_size(type.id, chdf5_T_VARIABLE()), "define a string type")
        try check(H5Tset_cset(type.id, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), "define a string type")
        try check(H5Tset_strpad(type.id, H5T_STR_NULLTERM), "define a string type")
        var dims = [hsize_t(values.count)]
        let space = try own(
            scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil), .dataspace, "create a dataspace",
            errorKind: .io)
        let attr = try own(
            H5Acreate2(object, name, type.id, space.id, h5Default, h5Default), .attribute,
            "create attribute `\(name)`", errorKind: .io)
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        try check(H5Awrite(attr.id, type.id, &pointers), "write attribute `\(name)`", errorKind: .io)
    }

    /// Writes `values` as fixed-length ASCII strings of `width` bytes, SIMPLE [count]; Keras uses NULLPAD.
    func writeFixedStrings(_ object: hid_t, _ name: String, _ values: [String], width: Int, pad: StringPad = .nullPad)
        throws
    {
        let type = try copyType(chdf5_T_C_S1())
        try check(H5Tset_size(type.id, max(width, 1)), "define a string type")
        try check(H5Tset_strpad(type.id, pad.h5), "define a string type")
        var dims = [hsize_t(values.count)]
        let space = try own(H5Screate_simple(1, &dims, nil), .dataspace, "create a dataspace", errorKind: .io)
        let attr = try own(
            H5Acreate2(object, name, type.id, space.id, h5Default, h5Default), .attribute,
            "create attribute `\(name)`", errorKind: .io)
        var bytes = [UInt8](repeating: 0, count: max(values.count * max(width, 1), 1))
        for (i, v) in values.enumerated() {
            for j in 0..<width { bytes[i * width + j] = pad == .spacePad ? 0x20 : 0 }
            for (j, b) in v.utf8.prefix(width).enumerated() { bytes[i * width + j] = b }
        }
        try check(H5Awrite(attr.id, type.id, &bytes), "write attribute `\(name)`", errorKind: .io)
    }

    /// Writes a Keras string list: one variable-length attribute, or, when `count × longest` exceeds
    /// 64 512 bytes, the smallest number k of fixed-length parts `name0`…`name{k-1}` that each fit (§3.1).
    /// An empty list is the f64 `(0,)` attribute Keras writes.
    func writeStringList(_ object: hid_t, _ name: String, _ values: [String]) throws {
        guard !values.isEmpty else {
            var dims = [hsize_t(0)]
            let space = try own(H5Screate_simple(1, &dims, nil), .dataspace, "create a dataspace", errorKind: .io)
            let attr = try own(
                H5Acreate2(object, name, chdf5_T_IEEE_F64LE(), space.id, h5Default, h5Default), .attribute,
                "create attribute `\(name)`", errorKind: .io)
            _ = attr
            return
        }
        let parts = kerasChunks(values)
        if parts.count == 1 { return try writeVariableStrings(object, name, values) }
        let width = values.map(\.utf8.count).max() ?? 1
        for (i, part) in parts.enumerated() { try writeFixedStrings(object, "\(name)\(i)", part, width: width) }
    }
}

/// Padding of fixed-length strings.
enum StringPad {
    case nullPad, nullTerm, spacePad

    var h5: H5T_str_t {
        switch self {
        case .nullPad: return H5T_STR_NULLPAD
        case .nullTerm: return H5T_STR_NULLTERM
        case .spacePad: return H5T_STR_SPACEPAD
        }
    }
}

/// Keras' attribute chunking: the smallest k such that every part of `numpy.array_split(values, k)` (the first
/// `count mod k` parts one longer) stays within 64 512 bytes at the longest string's width.
func kerasChunks(_ values: [String], limit: Int = 64_512) -> [[String]] {
    let width = max(values.map(\.utf8.count).max() ?? 1, 1)
    var k = 1
    while k < values.count, ((values.count + k - 1) / k) * width > limit { k += 1 }
    var parts: [[String]] = []
    var start = 0
    for i in 0..<k {
        let size = values.count / k + (i < values.count % k ? 1 : 0)
        parts.append(Array(values[start..<(start + size)]))
        start += size
    }
    return parts
}
