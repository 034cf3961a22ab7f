// The one policy every writer applies to tensor names, the escaping of names shown to users, and names compared by
// their UTF-8 bytes.

/// What a tensor name may be when rmt-convert writes it (safetensors, .npz members, .npy, torch, HDF5).
///
/// Names become paths: `.npz` member `<name>.npy`, which `unzip` extracts as a file, and HDF5 group paths. So a
/// name may not leave its folder (`..` components, split at `/` and at `\` for Windows tools), may not be an
/// absolute path (a leading `/` or `\`), and may not hold control characters (NUL cuts C strings short; escape
/// sequences repaint terminals). Readers accept such names (`inspect` shows them escaped); writers refuse them,
/// naming the tensor. `.npz` input refuses the path rules too (`NPZArchive`), as `unzip` would act on them.
/// HDF5 adds the rules of its group paths (`hierarchical`, docs/FORMATS.md §3.7).
public enum TensorNamePolicy {
    /// What is wrong with `name` as a path inside an archive (`..` component, absolute), or nil.
    public static func pathProblem(_ name: String) -> String? {
        if name.hasPrefix("/") || name.hasPrefix("\\") { return "is an absolute path" }
        if name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" })
            .contains(where: { $0 == ".." })
        {
            return "has a `..` component"
        }
        return nil
    }

    /// What is wrong with `name` for any writer, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if let path = pathProblem(name) { return path }
        if let scalar = name.unicodeScalars.first(where: isControl) {
            return "holds a control character (U+\(hex(scalar.value, width: 4)))"
        }
        return nil
    }

    /// Refuses the first name a writer may not write.
    /// - Parameters:
    ///   - file: the output, named in the error.
    ///   - hierarchical: also apply HDF5's group-path rules: no trailing `/`, no `//`, no `.` component, and no name
    ///     that is also a group of another (`a` and `a/b`).
    /// - Throws: `CheckpointError(.invalidName)` with the name escaped and what to do.
    public static func check(_ names: [String], file: String, hierarchical: Bool = false) throws {
        func refuse(_ name: String, _ problem: String) -> CheckpointError {
            CheckpointError(
                .invalidName, file: file, tensor: name,
                (name.isEmpty
                    ? "a tensor has an empty name" : "tensor name `\(escapedControlCharacters(name))` \(problem)")
                    + "; rename the tensor (names may not leave their folder or hold control characters)")
        }
        for name in names {
            if let problem = problem(name) { throw refuse(name, problem) }
        }
        guard hierarchical else { return }
        let all = Set(names.map { UTF8Key($0) })
        for name in names {
            let components = name.split(separator: "/", omittingEmptySubsequences: false)
            if name.hasSuffix("/") { throw refuse(name, "ends with `/`, which HDF5 paths cannot hold") }
            if components.contains("") { throw refuse(name, "has `//`, which HDF5 paths cannot hold") }
            if components.contains(where: { $0 == "." }) {
                throw refuse(name, "has a `.` component, which HDF5 paths cannot hold")
            }
            var prefix = ""
            for component in components.dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + component
                if all.contains(UTF8Key(prefix)) {
                    throw CheckpointError(
                        .invalidName, file: file, tensor: name,
                        "`\(escapedControlCharacters(prefix))` is both a tensor and a group of `\(escapedControlCharacters(name))` in HDF5; rename one of them"
                    )
                }
            }
        }
    }

    /// C0 and C1 controls, DEL, and the bidirectional overrides that make a name display as another.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}

/// `text` with every control character (C0, DEL, C1, bidirectional overrides) written as `\u{1B}`, so that names
/// read from untrusted files cannot move the cursor, recolour or clear a terminal, or hide in output. Everything else,
/// backslashes included, is unchanged.
public func escapedControlCharacters(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: TensorNamePolicy.isControl) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if TensorNamePolicy.isControl(scalar) {
            out.append(contentsOf: "\\u{\(hex(scalar.value, width: 1))}".unicodeScalars)
        } else {
            out.append(scalar)
        }
    }
    return String(out)
}

/// Uppercase hexadecimal, zero-padded to `width` digits.
private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
