// The unpickler's working objects: lists, dicts and sets stay mutable (APPEND after BINPUT must reach the
// memoized object), and are frozen into `PickleValue` trees at STOP.

/// A mutable list or set under construction.
final class PickleListBox {
    var items: [PickleNode] = []
}

/// A mutable dict under construction, in insertion order; a repeated key (compared by UTF-8 bytes for strings, as
/// Python compares them) replaces the value in place.
final class PickleDictBox {
    var keys: [PickleValue] = []
    /// The height of each key's value tree (keys are frozen when set).
    var keyHeights: [Int] = []
    var values: [PickleNode] = []
    fileprivate var stringIndex: [UTF8Key: Int] = [:]
    fileprivate var intIndex: [Int: Int] = [:]

    func set(_ key: PickleValue, height keyHeight: Int = 0, _ value: PickleNode) {
        let existing: Int?
        switch key {
        case .string(let s): existing = stringIndex[UTF8Key(s)]
        case .int(let i): existing = intIndex[i]
        default: existing = keys.firstIndex(of: key)
        }
        if let existing {
            values[existing] = value
            return
        }
        switch key {
        case .string(let s): stringIndex[UTF8Key(s)] = keys.count
        case .int(let i): intIndex[i] = keys.count
        default: break
        }
        keys.append(key)
        keyHeights.append(keyHeight)
        values.append(value)
    }
}

extension PickleDictBox {
    /// Drops every entry, without recursion (`PickleNode.dismantle`).
    func removeAll() {
        PickleNode.dismantle(&values)
        keys = []
        keyHeights = []
        stringIndex = [:]
        intIndex = [:]
    }
}

/// One stack or memo item.
///
/// Immutable items (`value`, `tuple`) carry the height of their tree (0 for a scalar), computed when they are
/// built, so nesting is bounded for every container kind as the pickle runs, not only when it is frozen: a tuple or
/// frozenset nested deeper than `maximumDepth` is refused by the opcode that builds it. Lists, dicts and sets are
/// mutable boxes shared through the memo; a box counts one level where it is held, and freezing checks the depth
/// through boxes. Nothing nested can therefore be deeper than `maximumDepth` tuples or values, and `dismantle`
/// frees what the unpickler holds without recursion at all.
enum PickleNode {
    /// A finished value and the height of its tree.
    case value(PickleValue, height: Int = 0)
    /// A tuple and its height (a box inside counts one level).
    case tuple([PickleNode], height: Int)
    case list(PickleListBox)
    case dict(PickleDictBox)
    case set(PickleListBox)

    /// Python nests at most ~1000 levels before its own recursion limit; checkpoints use fewer than 10.
    static let maximumDepth = 512

    static let tooDeep = "containers nested deeper than \(maximumDepth) levels (or a container holds itself)"

    /// The height of this item's tree as far as it is immutable (a box counts 1).
    var height: Int {
        switch self {
        case .value(_, let height), .tuple(_, let height): return height
        case .list, .dict, .set: return 1
        }
    }

    /// The immutable value tree and its height. `budget` bounds the total number of nodes produced, so a pickle
    /// that shares one list many times at many levels (exponential when copied) fails instead of exhausting memory;
    /// a self-containing list fails on depth.
    func frozen(depth: Int, budget: inout Int, error: (String) -> CheckpointError) throws -> (
        value: PickleValue, height: Int
    ) {
        guard depth < PickleNode.maximumDepth else { throw error(PickleNode.tooDeep) }
        budget -= 1
        guard budget >= 0 else { throw error("the value tree is far larger than the pickle (shared containers)") }
        func all(_ items: [PickleNode]) throws -> (values: [PickleValue], height: Int) {
            var values: [PickleValue] = []
            values.reserveCapacity(items.count)
            var height = 0
            for item in items {
                let frozen = try item.frozen(depth: depth + 1, budget: &budget, error: error)
                values.append(frozen.value)
                height = max(height, frozen.height)
            }
            return (values, height + 1)
        }
        switch self {
        case .value(let v, let height):
            guard depth + height < PickleNode.maximumDepth else { throw error(PickleNode.tooDeep) }
            return (v, height)
        case .tuple(let items, _):
            let (values, height) = try all(items)
            return (.tuple(values), height)
        case .list(let box):
            let (values, height) = try all(box.items)
            return (.list(values), height)
        case .set(let box):
            let (values, height) = try all(box.items)
            return (.set(values), height)
        case .dict(let box):
            var entries: [PickleDictEntry] = []
            entries.reserveCapacity(box.keys.count)
            var height = 0
            for (i, (key, value)) in zip(box.keys, box.values).enumerated() {
                guard depth + 1 + box.keyHeights[i] < PickleNode.maximumDepth else { throw error(PickleNode.tooDeep) }
                let frozen = try value.frozen(depth: depth + 1, budget: &budget, error: error)
                entries.append(PickleDictEntry(key: key, value: frozen.value))
                height = max(height, frozen.height, box.keyHeights[i])
            }
            return (.dict(entries), height + 1)
        }
    }

    /// Empties `nodes` and frees everything they alone hold with a work list instead of recursion, so that no depth
    /// of nesting can overflow the stack while it is freed.
    static func dismantle(_ nodes: inout [PickleNode]) {
        var pending = nodes
        nodes = []
        var values: [PickleValue] = []
        while let node = pending.popLast() {
            switch node {
            case .tuple(let items, _): pending.append(contentsOf: items)
            case .value(let value, let height) where height > 0: values.append(value)
            default: break
            }
        }
        PickleValue.dismantle(&values)
    }
}

extension PickleValue {
    /// Frees `values` with a work list instead of recursion (see `PickleNode.dismantle`).
    static func dismantle(_ values: inout [PickleValue]) {
        var pending = values
        values = []
        while let value = pending.popLast() {
            switch value {
            case .list(let items), .tuple(let items), .set(let items): pending.append(contentsOf: items)
            case .dict(let entries):
                for entry in entries { pending += [entry.key, entry.value] }
            default: break
            }
        }
    }
}

/// Names of every pickle opcode (protocols 0–5), for error messages about the ones not implemented.
enum PickleOpcodeNames {
    static func name(of op: UInt8) -> String? { table[op] }

    private static let table: [UInt8: String] = [
        0x28: "MARK", 0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
        0x4A: "BININT", 0x4B: "BININT1", 0x4C: "LONG", 0x4D: "BININT2", 0x4E: "NONE", 0x50: "PERSID",
        0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
        0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
        0x7D: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6A: "LONG_BINGET",
        0x6C: "LIST", 0x5D: "EMPTY_LIST", 0x6F: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
        0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
        0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
        0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8A: "LONG1", 0x8B: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
        0x8C: "SHORT_BINUNICODE", 0x8D: "BINUNICODE8", 0x8E: "BINBYTES8", 0x8F: "EMPTY_SET", 0x90: "ADDITEMS",
        0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
        0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]
}
