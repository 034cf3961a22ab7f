// The allow-list of globals (docs/FORMATS.md §5.3) and what "calling" each one means; persistent storage ids (§5.4).
import TensorCore

extension Unpickler {
    /// The tag for an allowed global; anything else is refused the way torch's `weights_only` loader does.
    func global(module rawModule: String, name: String) throws -> PickleValue {
        let module = rawModule == "__builtin__" ? "builtins" : rawModule == "copy_reg" ? "copyreg" : rawModule
        let allowed: Bool
        switch module {
        case "collections": allowed = name == "OrderedDict"
        case "torch._utils":
            allowed = [
                "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_parameter", "_rebuild_parameter_with_state",
            ].contains(name)
        case "torch.storage": allowed = name == "UntypedStorage"
        case "torch":
            if let kind = TorchNames.storageTypes[name], kind == nil {
                throw fail(
                    .unsupportedDType,
                    "storage type torch.\(name) (quantized or complex128) is not supported; dequantize or convert the model to float and save it again"
                )
            }
            allowed =
                TorchNames.storageTypes[name] != nil || TorchNames.dtypes[name] != nil || name == "Size"
                || name == "device"
        case "_codecs": allowed = name == "encode"
        case "builtins": allowed = ["set", "bytearray", "complex"].contains(name)
        default: allowed = false
        }
        guard allowed else {
            throw fail(
                .unsupportedContent,
                "unsupported global: GLOBAL \(module).\(name); only state dicts of tensors and plain Python values are read and nothing is executed — load it in Python and save `model.state_dict()` instead"
            )
        }
        return .global(module: module, name: name)
    }

    /// REDUCE / NEWOBJ / NEWOBJ_EX on an allowed tag.
    mutating func call(_ callable: PickleNode, arguments: PickleNode, keywords: PickleNode?) throws -> PickleNode {
        guard case .value(.global(let module, let name), _) = callable else {
            throw corrupt("REDUCE needs a global to call, found \(try frozen(callable).typeName)")
        }
        guard case .tuple(let argNodes, _) = arguments else {
            throw corrupt("the arguments of \(module).\(name) are not a tuple")
        }
        if let keywords {
            guard case .dict(let box) = keywords, box.keys.isEmpty else {
                throw fail(.unsupportedContent, "keyword arguments to \(module).\(name) are not supported")
            }
        }
        let qualified = "\(module).\(name)"
        switch qualified {
        case "collections.OrderedDict", "builtins.set":
            let box = newList()
            if let first = argNodes.first {
                switch first {
                case .list(let items), .set(let items): box.items = items.items
                case .tuple(let items, _): box.items = items
                default: throw corrupt("\(qualified) takes a list, found \(try frozen(first).typeName)")
                }
            }
            guard qualified == "collections.OrderedDict" else { return .set(box) }
            let dict = newDict()
            for pair in box.items {
                guard case .tuple(let kv, _) = pair, kv.count == 2 else {
                    throw corrupt("OrderedDict takes (key, value) pairs")
                }
                let key = try frozenWithHeight(kv[0])
                dict.set(key.value, height: key.height, kv[1])
            }
            return .dict(dict)
        default:
            break
        }
        let frozenArgs = try argNodes.map { try frozenWithHeight($0) }
        let args = frozenArgs.map(\.value)
        switch qualified {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3":
            return .value(.tensor(try rebuildTensor(args, version: name.hasSuffix("v3") ? 3 : 2)))
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let first = args.first, case .tensor = first, args.count >= 3 else {
                throw corrupt("\(name) needs (tensor, requires_grad, backward_hooks)")
            }
            return .value(first)
        case "torch.Size":
            guard args.count <= 1 else { throw corrupt("torch.Size takes one argument") }
            switch args.first {
            case nil: return .value(.tuple([]))
            case .tuple(let items)?, .list(let items)?: return try value(.tuple(items), height: frozenArgs[0].height)
            case let other?: throw corrupt("torch.Size takes a tuple, found \(other.typeName)")
            }
        case "torch.device":
            guard case .string(let type)? = args.first else { throw corrupt("torch.device takes a string") }
            if args.count == 2, case .int(let index) = args[1] { return .value(.string("\(type):\(index)")) }
            return .value(.string(type))
        case "_codecs.encode":
            guard args.count == 2, case .string(let text) = args[0], case .string(let encoding) = args[1],
                ["latin1", "latin-1"].contains(encoding.lowercased())
            else {
                throw fail(.unsupportedContent, "_codecs.encode is read only as encode(text, 'latin1')")
            }
            var out: [UInt8] = []
            for scalar in text.unicodeScalars {
                guard scalar.value <= 0xFF else {
                    throw corrupt("latin-1 text holds U+\(String(scalar.value, radix: 16))")
                }
                out.append(UInt8(scalar.value))
            }
            return .value(.bytes(out))
        case "builtins.bytearray":
            switch args.first {
            case nil: return .value(.bytes([]))
            case .bytes(let b)?: return .value(.bytes(b))
            case let other?: throw corrupt("bytearray takes bytes, found \(other.typeName)")
            }
        case "builtins.complex":
            func number(_ v: PickleValue?) -> Double? {
                switch v {
                case nil: return 0
                case .float(let d)?: return d
                case .int(let i)?: return Double(i)
                default: return nil
                }
            }
            guard args.count <= 2, let re = number(args.first), let im = number(args.count == 2 ? args[1] : nil) else {
                throw corrupt("complex takes one or two numbers")
            }
            return .value(.complex(real: re, imaginary: im))
        default:
            throw fail(.unsupportedContent, "calling \(qualified) is not supported; nothing is executed")
        }
    }

    /// BUILD (set state): ignorable on dicts (`OrderedDict._metadata`) and tensors; refused elsewhere.
    mutating func build(_ target: PickleNode, state: PickleNode) throws {
        switch target {
        case .dict, .value(.tensor, _): return
        default: throw fail(.unsupportedContent, "BUILD on a \(try frozen(target).typeName) is not supported")
        }
    }

    /// `('storage', <type>, key, location, numel[, view_metadata])`, cached by key.
    mutating func persistentStorage(_ pid: PickleValue) throws -> TorchStorageReference {
        guard case .tuple(let items) = pid, items.count == 5 || items.count == 6, items[0] == .string("storage") else {
            throw fail(
                .unsupportedContent,
                "persistent id \(pid.typeName) is not a torch storage tuple ('storage', type, key, location, numel)")
        }
        guard case .global(_, let typeName) = items[1], let known = TorchNames.storageTypes[typeName], let kind = known
        else {
            throw corrupt("storage type \(items[1].typeName) is not a torch storage class")
        }
        guard case .string(let key) = items[2], case .string(let location) = items[3] else {
            throw corrupt("storage key and location must be strings")
        }
        guard case .int(let numel) = items[4], numel >= 0 else {
            throw corrupt("storage `\(key)` has an invalid element count")
        }
        let root = TorchStorageReference(key: key, kind: kind, location: location, elementCount: numel)
        guard root.byteCount != nil else { throw corrupt("storage `\(key)` size overflows") }
        if let cached = storages[UTF8Key(key)] {
            guard cached.kind == kind, cached.elementCount == numel else {
                throw corrupt("storage `\(key)` is declared twice with different types or sizes")
            }
        } else {
            storages[UTF8Key(key)] = root
        }
        guard items.count == 6, items[5] != .none else { return root }
        // Legacy storage view: (view_key, offset, view_numel) into the root storage.
        guard case .tuple(let view) = items[5], view.count == 3, case .string(let viewKey) = view[0],
            case .int(let start) = view[1], case .int(let viewCount) = view[2], start >= 0, viewCount >= 0,
            start <= numel, viewCount <= numel - start
        else {
            throw corrupt("storage `\(key)` has an invalid view (view_key, offset, numel) outside the storage")
        }
        let reference = TorchStorageReference(
            key: key, kind: kind, location: location, elementCount: numel,
            byteOffset: start * kind.elementSize)
        storages[UTF8Key(viewKey)] = storages[UTF8Key(viewKey)] ?? reference
        return reference
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])` and
    /// `_rebuild_tensor_v3(…, hooks, dtype[, metadata])`.
    func rebuildTensor(_ args: [PickleValue], version: Int) throws -> TorchTensorReference {
        let function = "_rebuild_tensor_v\(version)"
        let counts = version == 2 ? 6...7 : 7...8
        guard counts.contains(args.count) else {
            throw corrupt("\(function) takes \(counts) arguments, found \(args.count)")
        }
        guard case .storage(let storage) = args[0] else {
            throw corrupt("\(function) needs a storage, found \(args[0].typeName)")
        }
        guard case .int(let offset) = args[1], offset >= 0 else {
            throw corrupt("\(function) needs a non-negative storage offset")
        }
        func integers(_ v: PickleValue, _ what: String) throws -> [Int] {
            guard case .tuple(let items) = v else {
                throw corrupt("\(function) needs a tuple of \(what), found \(v.typeName)")
            }
            return try items.map {
                guard case .int(let i) = $0, i >= 0 else {
                    throw corrupt("\(function) \(what) must be non-negative integers")
                }
                return i
            }
        }
        let size = try integers(args[2], "sizes"), strides = try integers(args[3], "strides")
        guard size.count == strides.count else {
            throw corrupt("\(function) has \(size.count) sizes but \(strides.count) strides")
        }
        guard Shape(size).checkedElementCount != nil else { throw corrupt("\(function) size \(size) overflows") }
        let dtype: DType
        if version == 3 {
            guard case .global(_, let name) = args[6], let known = TorchNames.dtypes[name] else {
                throw corrupt("\(function) needs a torch dtype as its 7th argument, found \(args[6].typeName)")
            }
            guard let d = known else {
                throw fail(
                    .unsupportedDType,
                    "dtype torch.\(name) is not supported; convert the tensor to a supported dtype and save it again")
            }
            dtype = d
        } else {
            switch storage.kind {
            case .typed(let d): dtype = d
            case .untyped: dtype = .u8
            }
        }
        guard Shape(size).checkedByteCount(dtype) != nil else {
            throw corrupt("\(function) size \(size) of \(dtype.rawValue) overflows a byte count")
        }
        let reference = TorchTensorReference(
            storage: storage, dtype: dtype, offset: offset, shape: Shape(size), strides: strides)
        guard reference.addressedByteRange != nil else {
            throw corrupt("\(function) view \(size) / \(strides) at \(offset) overflows")
        }
        return reference
    }
}
